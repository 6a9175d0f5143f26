// starter begin
//| // ECP v1 chat server: the Go starter of the ECP labs (docs/labs/README.md).
//| //
//| // What is here already: the command-line contract (docs/protocol.md section 15), the listening
//| // socket, a goroutine per connection, an output queue per connection (Send never blocks),
//| // logging, and a clean exit on SIGTERM or Ctrl-C. What is not: everything marked TODO(lab N).
//| // Work through the labs in order; each lab's page says which TODOs it needs, which sections of
//| // docs/protocol.md to read, and the one command that checks your work.
//| //
//| //	go run server.go --port 8888 --password secret123
//| //
//| // Standard library only (Go 1.19 or later). A TODO you have not done yet panics with a Todo: the
//| // server logs it and closes that connection, and keeps serving the others.

// An ECP v1 chat server: the Go starter of labs/starters/go with every lab done.
//
// The kit's tests run it through every lab (test/labs/). The starter is written from this file
// (`npm run labs:starters`, labs/generate-starters.ts): what lies between `// starter begin` and
// `// starter end` is the students' work, and the `//|` lines are what the starter has in its
// place. One goroutine reads each connection; one more writes it from a queue, so a member that
// stops reading never blocks the room (lab 7).
//
//	go run server.go --port 8888 --password secret123 [--max-line-bytes N] ...
//
// Standard library only.
// starter end
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// The texts of docs/protocol.md section 9: use them exactly.
const (
	welcome          = "Welcome %s! Establishing secure connection..."
	secure           = "Secure connection established! You can now send encrypted messages."
	joined           = "%s has joined the chat"
	left             = "%s has left the chat"
	taken            = "Username already taken"
	shuttingDown     = "Server is shutting down"
	lineTooLong      = "Line too long (limit %d bytes); closing connection"
	invalidPassword  = "Invalid server password"
	invalidHandshake = "Invalid handshake: %s"
	invalidUsername  = "Invalid username: must be 1-%d printable characters"
	invalidPublicKey = "Invalid public key: %s"
	handshakeTimeout = "Handshake timeout"
	serverFull       = "Server full"
)

// After refusing a connection, how long it may take to read our last line before we hang up.
const closeGrace = time.Second

// How long a graceful shutdown may take before the remaining connections are dropped.
const shutdownGrace = 1500 * time.Millisecond

// Options is the command-line contract of docs/protocol.md section 15: the same flags as `ecp server`.
type Options struct {
	Host                  string
	Port                  int
	Password              string
	MaxLineBytes          int
	HandshakeTimeoutMs    int
	MaxPendingOutputBytes int
	MaxConnections        int
	MaxUsernameLength     int
	SlowReaderTimeoutMs   int
}

func parseOptions() Options {
	var o Options
	flag.StringVar(&o.Host, "host", "127.0.0.1", "interface to listen on")
	flag.IntVar(&o.Port, "port", 8888, "port to listen on")
	flag.StringVar(&o.Password, "password", "secret123", "the server password")
	flag.IntVar(&o.MaxLineBytes, "max-line-bytes", 1048576, "longest line accepted")
	flag.IntVar(&o.HandshakeTimeoutMs, "handshake-timeout-ms", 10000, "time to complete a handshake")
	flag.IntVar(&o.MaxPendingOutputBytes, "max-pending-output-bytes", 8388608, "output queued per client")
	flag.IntVar(&o.MaxConnections, "max-connections", 10000, "open connections")
	flag.IntVar(&o.MaxUsernameLength, "max-username-length", 32, "longest username, in characters")
	// Flow control (lab 7), as the reference server names it.
	flag.IntVar(&o.SlowReaderTimeoutMs, "slow-reader-timeout-ms", 5000, "time a client's output may stay undrained")
	flag.Parse()
	return o
}

// starter begin
//| // Todo is work not done yet: every TODO below panics with one, and serveSafely logs it.
//| type Todo string
//|
//| // Imports the TODOs will use: Go refuses to compile an unused import.
//| var (
//| 	_ = bytes.IndexByte
//| 	_ = rand.Reader
//| 	_ = sha256.Sum256
//| 	_ = subtle.ConstantTimeCompare
//| 	_ = x509.ParsePKIXPublicKey
//| 	_ = json.Unmarshal
//| 	_ = pem.Decode
//| 	_ = unicode.IsControl
//| 	_ = utf8.Valid
//| 	_ = lineTooLong
//| 	_ = joined
//| 	_ = left
//| 	_ = welcome
//| 	_ = secure
//| 	_ = shuttingDown
//| 	_ = invalidPassword
//| 	_ = invalidUsername
//| 	_ = invalidPublicKey
//| 	_ = handshakeTimeout
//| )
//|
// starter end
// ---------------------------------------------------------------------------------------------
// Lab 1: framing and JSON (protocol.md sections 2, 3 and 11), and refusing a wrong password
// ---------------------------------------------------------------------------------------------

// errLineTooLong: a line grew past the line limit (lab 6).
var errLineTooLong = errors.New("line too long")

// LineSplitter cuts a byte stream into lines at each '\n', however TCP splits the bytes.
type LineSplitter struct {
	// starter begin
	//| max    int
	//| buffer []byte
	max     int
	buffer  []byte
	scanned int // bytes of the buffer already searched for a line feed
	// starter end
}

// Feed adds bytes and returns the complete lines (without '\n' or a final '\r').
func (s *LineSplitter) Feed(data []byte) ([][]byte, error) {
	// starter begin
	//| // TODO(lab 1): append data to s.buffer, cut off every complete line (up to a '\n'), and keep
	//| // the unfinished rest for the next call. Split bytes first and check UTF-8 per line later: a
	//| // multi-byte character may arrive in two reads. Copy each line out of the buffer you reuse.
	//| // TODO(lab 6): return errLineTooLong as soon as a line (finished or not) is longer than s.max;
	//| // a line of exactly s.max bytes is fine.
	//| panic(Todo("lab 1: LineSplitter.Feed"))
	s.buffer = append(s.buffer, data...)
	var lines [][]byte
	start := 0
	for {
		from := start
		if s.scanned > from {
			from = s.scanned
		}
		end := bytes.IndexByte(s.buffer[from:], '\n')
		if end < 0 {
			break
		}
		end += from
		line := bytes.TrimSuffix(s.buffer[start:end], []byte("\r"))
		if len(line) > s.max {
			return nil, errLineTooLong
		}
		lines = append(lines, append([]byte(nil), line...))
		start = end + 1
	}
	s.buffer = append(s.buffer[:0], s.buffer[start:]...)
	s.scanned = len(s.buffer)
	// An unfinished line already over the limit will never fit (a final '\r' may still be part of
	// a line ending).
	pending := len(s.buffer)
	if pending > 0 && s.buffer[pending-1] == '\r' {
		pending--
	}
	if pending > s.max {
		return nil, errLineTooLong
	}
	return lines, nil
	// starter end
}

// Message is a client message: a JSON object whose "type" is "handshake" or "message". A map,
// not a struct: encoding/json matches struct field names case-insensitively ("USERNAME" would
// fill Username), and the protocol's names are case-sensitive.
type Message map[string]any

// parseMessage returns the message a line carries if it is a client message, else nil.
func parseMessage(line []byte) Message {
	// starter begin
	//| // TODO(lab 1): json.Unmarshal into an `any` and keep it if it is a map[string]any whose "type"
	//| // is "handshake" or "message". Return nil, never panic, for a blank line, bytes that are not
	//| // UTF-8, text that is not JSON, and JSON that is not an object (ECP-ERR-01, ECP-ERR-02).
	//| // Careful: encoding/json replaces invalid UTF-8 with U+FFFD instead of failing (utf8.Valid).
	//| panic(Todo("lab 1: parseMessage"))
	// encoding/json replaces invalid UTF-8 with U+FFFD instead of failing: check first.
	if !utf8.Valid(line) || len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	var value any
	if err := json.Unmarshal(line, &value); err != nil {
		return nil
	}
	object, ok := value.(map[string]any)
	if !ok {
		return nil
	}
	if kind, _ := object["type"].(string); kind != "handshake" && kind != "message" {
		return nil
	}
	return object
	// starter end
}

// encode writes one message as one line: a JSON object, then exactly one '\n' (ECP-FR-01).
func encode(message map[string]any) []byte {
	// starter begin
	//| // TODO(lab 1): json.Marshal escapes line feeds inside strings; add the one '\n'.
	//| // (json.NewEncoder(&buffer).Encode(message) adds it for you.)
	//| panic(Todo("lab 1: encode"))
	var out bytes.Buffer
	encoder := json.NewEncoder(&out)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(message); err != nil { // Encode ends the line with '\n'
		panic(err)
	}
	return out.Bytes()
	// starter end
}

// ---------------------------------------------------------------------------------------------
// Labs 1 and 2: handshake and password (protocol.md sections 4.1 and 5)
// ---------------------------------------------------------------------------------------------

// Refused: send auth_error with this text, then close the connection.
type Refused struct{ Text string }

func (r Refused) Error() string { return r.Text }

// errNameTaken: answer with the taken-name notice; the connection stays open for another try.
var errNameTaken = errors.New("name taken")

// checkHandshakeFields returns Refused unless username, server_password and public_key are strings.
func checkHandshakeFields(message Message) error {
	// starter begin
	//| // TODO(lab 2): Refused{fmt.Sprintf(invalidHandshake, "missing field 'public_key'")}, or
	//| // "field 'username' must be a string", for the first field that is wrong (ECP-ERR-06, -07).
	//| panic(Todo("lab 2: checkHandshakeFields"))
	for _, field := range []string{"username", "server_password", "public_key"} {
		value, present := message[field]
		if !present {
			return Refused{fmt.Sprintf(invalidHandshake, fmt.Sprintf("missing field '%s'", field))}
		}
		if _, isString := value.(string); !isString {
			return Refused{fmt.Sprintf(invalidHandshake, fmt.Sprintf("field '%s' must be a string", field))}
		}
	}
	return nil
	// starter end
}

// passwordMatches compares in constant time (ECP-SEC-02). ConstantTimeCompare returns at once
// when the lengths differ, so compare fixed-length digests.
func passwordMatches(received, expected string) bool {
	// starter begin
	//| // TODO(lab 1): subtle.ConstantTimeCompare returns at once when the lengths differ, which
	//| // leaks the length: compare the sha256.Sum256 digests of both.
	//| panic(Todo("lab 1: passwordMatches"))
	a := sha256.Sum256([]byte(received))
	b := sha256.Sum256([]byte(expected))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
	// starter end
}

// validUsername: 1 to maxLength code points, none of Unicode category Cc (ECP-AUTH-06).
func validUsername(name string, maxLength int) bool {
	// starter begin
	//| // TODO(lab 6): utf8.RuneCountInString counts code points (len counts bytes);
	//| // unicode.IsControl is category Cc.
	//| panic(Todo("lab 6: validUsername"))
	count := utf8.RuneCountInString(name)
	if count == 0 || count > maxLength {
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
	// starter end
}

// ---------------------------------------------------------------------------------------------
// Lab 3: key exchange (protocol.md section 6)
// ---------------------------------------------------------------------------------------------

// loadClientKey returns the RSA public key of a handshake, or Refused with the reason.
func loadClientKey(text string) (*rsa.PublicKey, error) {
	// starter begin
	//| // TODO(lab 3): pem.Decode (a block of type "PUBLIC KEY"), x509.ParsePKIXPublicKey, and a
	//| // *rsa.PublicKey of at least 2048 bits (key.N.BitLen()). Refuse anything else, e.g.
	//| // Refused{fmt.Sprintf(invalidPublicKey, "not an RSA key")} (ECP-KX-04, ECP-KX-05).
	//| panic(Todo("lab 3: loadClientKey"))
	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, Refused{fmt.Sprintf(invalidPublicKey, "not a PEM SubjectPublicKeyInfo")}
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, Refused{fmt.Sprintf(invalidPublicKey, "not a PEM SubjectPublicKeyInfo")}
	}
	key, isRSA := parsed.(*rsa.PublicKey)
	if !isRSA {
		return nil, Refused{fmt.Sprintf(invalidPublicKey, "not an RSA key")}
	}
	if bits := key.N.BitLen(); bits < 2048 {
		return nil, Refused{fmt.Sprintf(invalidPublicKey, fmt.Sprintf("modulus is %d bits; at least 2048 required", bits))}
	}
	return key, nil
	// starter end
}

// wrapRoomKey: standard base64 of RSA-OAEP(SHA-256, MGF1-SHA-256) of the key's 44-byte text.
func wrapRoomKey(clientKey *rsa.PublicKey, roomKey []byte) (string, error) {
	// starter begin
	//| // TODO(lab 3): rsa.EncryptOAEP(sha256.New(), rand.Reader, clientKey, roomKey, nil), then
	//| // base64.StdEncoding. Encrypt the 44-byte text of the key, not the 32 bytes it encodes
	//| // (section 6.2).
	//| panic(Todo("lab 3: wrapRoomKey"))
	sealed, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, clientKey, roomKey, nil)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sealed), nil
	// starter end
}

// newRoomKey is a Fernet key as its 44-character text: base64url of 32 random bytes, with "=".
func newRoomKey() []byte {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err)
	}
	return []byte(base64.URLEncoding.EncodeToString(raw))
}

// ---------------------------------------------------------------------------------------------
// Labs 3, 4, 5 and 7: the room, relay and echo, user lists and notices, slow readers
// ---------------------------------------------------------------------------------------------

// Connection is one client: its socket, its name once admitted, and its output. A line is
// written at once when the kernel takes it; what it does not take waits in a queue that a
// goroutine of its own writes. So Send never blocks, and lines leave in the order they were sent.
type Connection struct {
	server  *Server
	conn    net.Conn
	raw     syscall.RawConn // for a write that never waits
	peer    string
	name    string // set when admitted, under the room's lock
	mu      sync.Mutex
	pending [][]byte
	bytes   int  // queued and not yet taken by the kernel
	writing bool // the writer goroutine is writing pending[0]
	closing bool // no more output is queued
	endNow  bool // close without flushing (a slow reader)
	wake    chan struct{}
	done    chan struct{} // closed when the writer has finished
}

func newConnection(server *Server, conn net.Conn) *Connection {
	c := &Connection{server: server, conn: conn, peer: conn.RemoteAddr().String(),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	if tcp, ok := conn.(*net.TCPConn); ok {
		c.raw, _ = tcp.SyscallConn()
	}
	go c.writeLoop()
	return c
}

// SendLine queues one encoded line; it never waits for the client to read.
func (c *Connection) SendLine(line []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	if len(c.pending) == 0 && !c.writing {
		line = line[c.tryWrite(line):]
		if len(line) == 0 {
			return
		}
	}
	c.pending = append(c.pending, line)
	c.bytes += len(line)
	// starter begin
	//| // TODO(lab 7): c.bytes is what is queued and not written. Past MaxPendingOutputBytes the client
	//| // is not reading: set c.closing and c.endNow, and c.conn.Close() (its reading goroutine sees
	//| // the end of the stream and leaves). And backpressure (ECP-LIM-08): in serve, after handling a
	//| // read, wait for every member past a quarter of that limit to drain (to half of it), and cut
	//| // one that has not within SlowReaderTimeoutMs. Senders slow down to the readers' pace, and a
	//| // member that reads slowly is never cut.
	if c.bytes > c.server.options.MaxPendingOutputBytes {
		c.dropLocked("cap")
	}
	// starter end
	c.signal()
}

// starter begin
// dropLocked disconnects a slow reader (the caller holds c.mu).
func (c *Connection) dropLocked(rule string) {
	if c.endNow {
		return
	}
	log.Printf("slow reader disconnected peer=%s rule=%s", c.peer, rule)
	c.closing, c.endNow = true, true
	c.conn.Close() // the reader sees the end of its stream and leaves the room
}

// queued is the output waiting for the kernel.
func (c *Connection) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// waitDrained waits, at most `timeout`, until the output queued is at most `low`; past the
// timeout the client is a slow reader and is dropped.
func (c *Connection) waitDrained(low int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for c.queued() > low {
		if time.Now().After(deadline) {
			c.mu.Lock()
			c.dropLocked("timeout")
			c.mu.Unlock()
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// starter end
// tryWrite writes what the kernel takes right now, without waiting, and says how much that was.
func (c *Connection) tryWrite(data []byte) int {
	if c.raw == nil {
		return 0
	}
	written := 0
	c.raw.Write(func(fd uintptr) bool {
		n, _ := syscall.Write(int(fd), data) // EAGAIN: nothing now; other errors: the reader sees them
		if n > 0 {
			written = n
		}
		return true // never wait for the socket to become writable
	})
	return written
}

func (c *Connection) Send(message map[string]any) { c.SendLine(encode(message)) }

// finish stops queuing; the writer flushes what is queued, half-closes and ends.
func (c *Connection) finish() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.signal()
}

func (c *Connection) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Connection) writeLoop() {
	defer close(c.done)
	for range c.wake {
		for {
			c.mu.Lock()
			if c.endNow {
				c.mu.Unlock()
				return
			}
			if len(c.pending) == 0 {
				closing := c.closing
				c.mu.Unlock()
				if !closing {
					break
				}
				if tcp, ok := c.conn.(*net.TCPConn); ok {
					tcp.CloseWrite()
				}
				return
			}
			line := c.pending[0]
			c.writing = true
			c.mu.Unlock()
			_, err := c.conn.Write(line) // may wait: only this connection's goroutine does
			c.mu.Lock()
			c.pending = c.pending[1:]
			c.bytes -= len(line)
			c.writing = false
			c.mu.Unlock()
			if err != nil {
				c.conn.Close()
				return
			}
		}
	}
}

// Room holds the members in join order; its lock makes each join, leave and relay atomic.
type Room struct {
	mu      sync.Mutex
	order   []string
	members map[string]*Connection
}

// starter begin
// WaitForReaders waits for every member whose output is past a quarter of the pending-output
// limit to drain to half of that, or to be dropped as slow after the slow-reader timeout.
func (r *Room) WaitForReaders(options Options) {
	high := options.MaxPendingOutputBytes / 4
	r.mu.Lock()
	var behind []*Connection
	for _, member := range r.members {
		if member.queued() > high {
			behind = append(behind, member)
		}
	}
	r.mu.Unlock()
	for _, member := range behind {
		member.waitDrained(high/2, time.Duration(options.SlowReaderTimeoutMs)*time.Millisecond)
	}
}

// starter end
func (r *Room) broadcastLocked(message map[string]any, exclude *Connection) {
	// starter begin
	//| // TODO(lab 3): encode once, SendLine to every member (in r.order) except `exclude`.
	//| panic(Todo("lab 3: Room.broadcastLocked"))
	line := encode(message) // serialise once for everyone
	for _, name := range r.order {
		if member := r.members[name]; member != exclude {
			member.SendLine(line)
		}
	}
	// starter end
}

func (r *Room) userListLocked() map[string]any {
	return map[string]any{"type": "user_list", "users": append([]string{}, r.order...)}
}

// TryJoin admits a connection unless the name is taken: the taken-name check and the join are one
// step, and no broadcast can fall between the four join lines.
func (r *Room) TryJoin(c *Connection, name string, encryptedKey string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// starter begin
	//| // TODO(lab 5): a name in r.members is taken: return errNameTaken.
	if _, exists := r.members[name]; exists {
		return errNameTaken
	}
	// starter end
	r.members[name] = c
	r.order = append(r.order, name)
	c.name = name
	// starter begin
	//| // TODO(lab 3): to the new member, in this order: system welcome, key_exchange, system secure,
	//| // user_list (section 4.2); then to every other member the user_list.
	//| // TODO(lab 5): and to every other member, right after that user_list, the system joined.
	//| panic(Todo("lab 3: Room.TryJoin"))
	c.Send(map[string]any{"type": "system", "message": fmt.Sprintf(welcome, name)})
	c.Send(map[string]any{"type": "key_exchange", "encrypted_key": encryptedKey})
	c.Send(map[string]any{"type": "system", "message": secure})
	c.Send(r.userListLocked())
	r.broadcastLocked(r.userListLocked(), c)
	r.broadcastLocked(map[string]any{"type": "system", "message": fmt.Sprintf(joined, name)}, c)
	return nil
	// starter end
}

func (r *Room) Leave(c *Connection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.name == "" || r.members[c.name] != c {
		return
	}
	delete(r.members, c.name)
	for i, name := range r.order {
		if name == c.name {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	// starter begin
	//| // TODO(lab 5): to the remaining members: the user_list, then system left (section 10).
	r.broadcastLocked(r.userListLocked(), nil)
	r.broadcastLocked(map[string]any{"type": "system", "message": fmt.Sprintf(left, c.name)}, nil)
	// starter end
}

// Relay sends to every other member first, then the echo to the sender, with the sender set by us.
func (r *Room) Relay(sender *Connection, message Message) {
	// starter begin
	//| // TODO(lab 4): under r.mu, build {"type": "message", "sender", "message", "encrypted"} from
	//| // the defined fields only, with the sender's admitted name, and SendLine it to every other
	//| // member, then to the sender (ECP-CHAT-01 to 05).
	//| // TODO(lab 6): ignore a message whose "message" is not a string or "encrypted" not a bool
	//| // (ECP-ERR-05).
	//| panic(Todo("lab 4: Room.Relay"))
	payload, isString := message["message"].(string)
	encrypted, isBool := message["encrypted"].(bool)
	if !isString || !isBool {
		return // ECP-ERR-05: ignored, nothing relayed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	line := encode(map[string]any{"type": "message", "sender": sender.name, "message": payload, "encrypted": encrypted})
	for _, name := range r.order {
		if member := r.members[name]; member != sender {
			member.SendLine(line)
		}
	}
	sender.SendLine(line)
	// starter end
}

func (r *Room) Has(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, exists := r.members[name]
	return exists
}

// ---------------------------------------------------------------------------------------------
// The server: connections, handshake timeout, limits, shutdown
// ---------------------------------------------------------------------------------------------

type Server struct {
	options      Options
	room         *Room
	roomKey      []byte // 44 ASCII bytes, one key for the server's lifetime
	mu           sync.Mutex
	connections  map[*Connection]bool
	shuttingDown bool
}

// Accept counts a new connection, in the accept loop (so in the order connections arrive), and
// says whether it may stay.
func (s *Server) Accept(conn net.Conn) (*Connection, bool) {
	c := newConnection(s, conn)
	s.mu.Lock()
	defer s.mu.Unlock()
	// starter begin
	//| // TODO(lab 6): also refuse (return false) past s.options.MaxConnections open connections.
	//| if s.shuttingDown {
	//| 	return c, false
	//| }
	if s.shuttingDown || len(s.connections) >= s.options.MaxConnections {
		return c, false
	}
	// starter end
	s.connections[c] = true
	return c, true
}

// Handle serves one connection, in a goroutine of its own.
func (s *Server) Handle(c *Connection, accepted bool) {
	conn := c.conn
	if !accepted {
		log.Printf("refused peer=%s reason=%q", c.peer, serverFull)
		s.refuse(c, serverFull)
		return
	}
	defer s.depart(c)
	// starter begin
	//| err := s.serveSafely(c)
	err := s.serve(c)
	// starter end
	var refused Refused
	switch {
	case errors.As(err, &refused):
		log.Printf("refused peer=%s reason=%q", c.peer, refused.Text)
		s.refuse(c, refused.Text)
	case errors.Is(err, errLineTooLong):
		log.Printf("line too long peer=%s name=%q", c.peer, c.name)
		// starter begin
		//| // TODO(lab 6): send the system notice lineTooLong (with the limit) first.
		c.Send(map[string]any{"type": "system", "message": fmt.Sprintf(lineTooLong, s.options.MaxLineBytes)})
		// starter end
		s.depart(c)
		s.closeGracefully(c)
	default:
		// Leave first, then close: a client that sees its connection end may rejoin at once.
		s.depart(c)
		c.finish()
		conn.Close()
	}
}

// depart: the connection is over; it gets nothing more, and the room hears of it once.
func (s *Server) depart(c *Connection) {
	s.mu.Lock()
	delete(s.connections, c)
	shuttingDown := s.shuttingDown
	s.mu.Unlock()
	if !shuttingDown {
		s.room.Leave(c)
	}
}

// starter begin
//| // serveSafely is serve, with a TODO not done yet (or a bug) costing this connection only.
//| func (s *Server) serveSafely(c *Connection) (err error) {
//| 	defer func() {
//| 		if problem := recover(); problem != nil {
//| 			if todo, isTodo := problem.(Todo); isTodo {
//| 				log.Printf("not implemented yet: TODO(%s)", string(todo))
//| 			} else {
//| 				log.Printf("error peer=%s: %v", c.peer, problem)
//| 			}
//| 			err = nil
//| 		}
//| 	}()
//| 	return s.serve(c)
//| }
// starter end

func (s *Server) serve(c *Connection) error {
	splitter := &LineSplitter{max: s.options.MaxLineBytes}
	// starter begin
	//| // TODO(lab 6): until the connection is admitted, c.conn.SetReadDeadline(accept time +
	//| // HandshakeTimeoutMs); a read that times out before admission is Refused{handshakeTimeout}.
	//| // Clear the deadline (time.Time{}) once it is admitted: members are never timed out.
	deadline := time.Now().Add(time.Duration(s.options.HandshakeTimeoutMs) * time.Millisecond)
	c.conn.SetReadDeadline(deadline)
	admitted := false
	// starter end
	chunk := make([]byte, 65536)
	for {
		n, err := c.conn.Read(chunk)
		if n > 0 {
			lines, splitErr := splitter.Feed(chunk[:n])
			for _, line := range lines {
				if message := parseMessage(line); message != nil {
					if handled := s.onMessage(c, message); handled != nil {
						return handled
					}
				}
			}
			if splitErr != nil {
				return splitErr
			}
			// starter begin
			// Backpressure (lab 7): read no more from this sender while a member is far behind, so
			// a member that keeps reading is never cut, however fast the others send.
			s.room.WaitForReaders(s.options)
			if !admitted && s.room.Has(c.name) {
				admitted = true
				c.conn.SetReadDeadline(time.Time{}) // members are never timed out
			}
			// starter end
		}
		if err != nil {
			// starter begin
			var netErr net.Error
			if !admitted && errors.As(err, &netErr) && netErr.Timeout() {
				return Refused{handshakeTimeout}
			}
			// starter end
			return nil
		}
	}
}

func (s *Server) onMessage(c *Connection, message Message) error {
	isMember := c.name != "" && s.room.Has(c.name)
	// starter begin
	//| // TODO(lab 4): a chat "message" from a member goes to s.room.Relay; one from a connection that
	//| // is not admitted is ignored (ECP-ERR-03).
	//| // TODO(lab 6): a handshake from a member is ignored (ECP-ERR-04).
	//| if message["type"] != "handshake" {
	//| 	return nil
	//| }
	if message["type"] == "message" {
		if isMember {
			s.room.Relay(c, message)
		}
		return nil // ECP-ERR-03: a chat message before admission is ignored
	}
	// starter end
	// starter begin
	//| _ = isMember
	if isMember {
		return nil // ECP-ERR-04: a second handshake is ignored
	}
	// starter end
	name, encryptedKey, err := s.checkHandshake(message)
	if err == nil {
		err = s.room.TryJoin(c, name, encryptedKey)
	}
	if errors.Is(err, errNameTaken) {
		c.Send(map[string]any{"type": "system", "message": taken})
		return nil
	}
	if err != nil {
		return err
	}
	log.Printf("joined name=%q", name)
	return nil
}

// checkHandshake applies the checks of protocol.md section 4.1 in order; the first failing one decides.
func (s *Server) checkHandshake(message Message) (string, string, error) {
	// starter begin
	//| // TODO(lab 2): checkHandshakeFields(message) before anything else.
	//| // TODO(lab 1): a wrong password (passwordMatches): return Refused{invalidPassword}.
	//| // TODO(lab 6): validUsername, else Refused{fmt.Sprintf(invalidUsername, MaxUsernameLength)}.
	//| // TODO(lab 5): a name s.room.Has: return errNameTaken.
	//| // TODO(lab 3): return the name and wrapRoomKey(loadClientKey(...), s.roomKey).
	//| panic(Todo("lab 1: Server.checkHandshake"))
	if err := checkHandshakeFields(message); err != nil {
		return "", "", err
	}
	if !passwordMatches(message["server_password"].(string), s.options.Password) {
		return "", "", Refused{invalidPassword}
	}
	name := message["username"].(string)
	if !validUsername(name, s.options.MaxUsernameLength) {
		return "", "", Refused{fmt.Sprintf(invalidUsername, s.options.MaxUsernameLength)}
	}
	if s.room.Has(name) {
		return "", "", errNameTaken
	}
	key, err := loadClientKey(message["public_key"].(string))
	if err != nil {
		return "", "", err
	}
	encryptedKey, err := wrapRoomKey(key, s.roomKey)
	if err != nil {
		return "", "", Refused{fmt.Sprintf(invalidPublicKey, err.Error())}
	}
	return name, encryptedKey, nil
	// starter end
}

func (s *Server) refuse(c *Connection, text string) {
	c.Send(map[string]any{"type": "auth_error", "message": text})
	s.closeGracefully(c)
}

// closeGracefully: our last line first, then end of file; read what the client still sends so
// it gets no reset.
func (s *Server) closeGracefully(c *Connection) {
	c.finish()
	<-c.done
	c.conn.SetReadDeadline(time.Now().Add(closeGrace))
	io.Copy(io.Discard, c.conn)
	c.conn.Close()
}

// Shutdown on SIGTERM or SIGINT: tell every member, flush, close (ECP-SYS-01).
func (s *Server) Shutdown(listener net.Listener) {
	s.mu.Lock()
	s.shuttingDown = true
	connections := make([]*Connection, 0, len(s.connections))
	for c := range s.connections {
		connections = append(connections, c)
	}
	s.mu.Unlock()
	listener.Close()
	for _, c := range connections {
		// starter begin
		//| // TODO(lab 5): tell every member (s.room.Has(c.name)) shuttingDown first (ECP-SYS-01).
		if s.room.Has(c.name) {
			c.Send(map[string]any{"type": "system", "message": shuttingDown})
		}
		// starter end
		c.finish()
	}
	deadline := time.After(shutdownGrace)
	for _, c := range connections {
		select {
		case <-c.done:
		case <-deadline:
		}
		c.conn.Close()
	}
}

func main() {
	log.SetFlags(log.Ltime)
	options := parseOptions()
	server := &Server{options: options, roomKey: newRoomKey(), connections: map[*Connection]bool{},
		room: &Room{members: map[string]*Connection{}}}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	address := net.JoinHostPort(options.Host, strconv.Itoa(options.Port))
	listener, err := net.Listen("tcp", address)
	if err != nil {
		log.Printf("cannot listen on %s: %v", address, err)
		os.Exit(1)
	}
	fmt.Printf("ECP server listening on %s\n", address)
	go func() {
		<-signals
		server.Shutdown(listener)
		log.Print("stopped")
		os.Exit(0)
	}()
	for {
		conn, err := listener.Accept()
		if err != nil {
			select {} // closed by Shutdown, which exits
		}
		c, accepted := server.Accept(conn)
		go server.Handle(c, accepted)
	}
}
