// An ECP v1 chat server: the Go starter of labs/starters/go with every lab done.
//
// The kit's tests run it through every lab (test/labs/). It keeps the starter's layout, so a
// teacher can compare a student's server with it section by section. One goroutine reads each
// connection; one more writes it from a queue, so a member that stops reading never blocks the
// room (lab 7).
//
//	go run server.go --port 8888 --password secret123 [--max-line-bytes N] ...
//
// Standard library only.
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
	MaxTotalOutputBytes   int
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
	// Flow control (lab 7), as the reference server names them.
	flag.IntVar(&o.SlowReaderTimeoutMs, "slow-reader-timeout-ms", 5000, "time a member's output may make no progress")
	flag.IntVar(&o.MaxTotalOutputBytes, "max-total-output-bytes", 256*1024*1024, "output held for all members")
	flag.Parse()
	return o
}

// ---------------------------------------------------------------------------------------------
// Lab 1: framing and JSON (protocol.md sections 2, 3 and 11), and refusing a wrong password
// ---------------------------------------------------------------------------------------------

// errLineTooLong: a line grew past the line limit (lab 6).
var errLineTooLong = errors.New("line too long")

// LineSplitter cuts a byte stream into lines at each '\n', however TCP splits the bytes.
type LineSplitter struct {
	max     int
	buffer  []byte
	scanned int // bytes of the buffer already searched for a line feed
}

// Feed adds bytes and returns the complete lines (without '\n' or a final '\r').
func (s *LineSplitter) Feed(data []byte) ([][]byte, error) {
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
}

// Message is a client message: a JSON object whose "type" is "handshake" or "message". A map,
// not a struct: encoding/json matches struct field names case-insensitively ("USERNAME" would
// fill Username), and the protocol's names are case-sensitive.
type Message map[string]any

// parseMessage returns the message a line carries if it is a client message, else nil.
func parseMessage(line []byte) Message {
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
}

// encode writes one message as one line: a JSON object, then exactly one '\n' (ECP-FR-01).
func encode(message map[string]any) []byte {
	var out bytes.Buffer
	encoder := json.NewEncoder(&out)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(message); err != nil { // Encode ends the line with '\n'
		panic(err)
	}
	return out.Bytes()
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
}

// passwordMatches compares in constant time (ECP-SEC-02). ConstantTimeCompare returns at once
// when the lengths differ, so compare fixed-length digests.
func passwordMatches(received, expected string) bool {
	a := sha256.Sum256([]byte(received))
	b := sha256.Sum256([]byte(expected))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// validUsername: 1 to maxLength code points, none of Unicode category Cc (ECP-AUTH-06).
func validUsername(name string, maxLength int) bool {
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
}

// ---------------------------------------------------------------------------------------------
// Lab 3: key exchange (protocol.md section 6)
// ---------------------------------------------------------------------------------------------

// loadClientKey returns the RSA public key of a handshake, or Refused with the reason.
func loadClientKey(text string) (*rsa.PublicKey, error) {
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
}

// wrapRoomKey: standard base64 of RSA-OAEP(SHA-256, MGF1-SHA-256) of the key's 44-byte text.
func wrapRoomKey(clientKey *rsa.PublicKey, roomKey []byte) (string, error) {
	sealed, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, clientKey, roomKey, nil)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sealed), nil
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
	written int  // ever taken by the kernel
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
		n := c.tryWrite(line)
		c.written += n
		line = line[n:]
		if len(line) == 0 {
			return
		}
	}
	c.pending = append(c.pending, line)
	c.bytes += len(line)
	if c.bytes > c.server.options.MaxPendingOutputBytes {
		c.cutLocked("cap")
		return
	}
	c.server.flow.Note(c, c.bytes)
	c.signal()
}

// cutLocked disconnects a slow reader (c.mu held): its reading goroutine sees the end of its
// stream and leaves the room.
func (c *Connection) cutLocked(rule string) {
	log.Printf("slow reader disconnected peer=%s rule=%s", c.peer, rule)
	c.closing, c.endNow = true, true
	c.conn.Close()
	c.signal()
	c.server.flow.Forget(c)
}

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
			c.written += len(line)
			c.writing = false
			if c.bytes <= c.server.flow.low {
				c.server.flow.Forget(c)
			}
			c.mu.Unlock()
			if err != nil {
				c.conn.Close()
				return
			}
		}
	}
}

// Flow is backpressure and slow readers (ECP-LIM-03, 04, 06, 07), as the reference server does
// them. A member whose unwritten output passes the high watermark is behind until it drains to the
// low one; while anyone is behind (or all output together passes the total budget) no connection's
// input is processed, so the senders slow down to the readers' pace and nobody who reads is cut. A
// member whose output makes no progress for the slow-reader timeout, or passes the pending-output
// limit, is disconnected. Lock order: room, then connection, then flow.
type Flow struct {
	server     *Server
	high, low  int
	mu         sync.Mutex
	cond       *sync.Cond
	behind     map[*Connection]bool
	overBudget bool
}

func newFlow(server *Server) *Flow {
	high := server.options.MaxPendingOutputBytes / 4
	if high > 1024*1024 {
		high = 1024 * 1024
	}
	if high < 2 {
		high = 2
	}
	f := &Flow{server: server, high: high, low: high / 2, behind: map[*Connection]bool{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *Flow) Note(c *Connection, pending int) {
	if pending <= f.high {
		return
	}
	f.mu.Lock()
	f.behind[c] = true
	f.mu.Unlock()
}

func (f *Flow) Forget(c *Connection) {
	f.mu.Lock()
	delete(f.behind, c)
	if len(f.behind) == 0 && !f.overBudget {
		f.cond.Broadcast()
	}
	f.mu.Unlock()
}

// Wait holds a reader back while the room's output is behind.
func (f *Flow) Wait() {
	f.mu.Lock()
	for len(f.behind) > 0 || f.overBudget {
		f.cond.Wait()
	}
	f.mu.Unlock()
}

// Watch runs every 100 ms: slow readers by the timeout, and the total output budget.
func (f *Flow) Watch() {
	timeout := time.Duration(f.server.options.SlowReaderTimeoutMs) * time.Millisecond
	type progress struct {
		written int
		at      time.Time
	}
	seen := map[*Connection]progress{}
	for range time.Tick(100 * time.Millisecond) {
		now := time.Now()
		f.server.mu.Lock()
		connections := make([]*Connection, 0, len(f.server.connections))
		for c := range f.server.connections {
			connections = append(connections, c)
		}
		f.server.mu.Unlock()
		total := 0
		alive := map[*Connection]progress{}
		for _, c := range connections {
			c.mu.Lock()
			pending, written := c.bytes, c.written
			last, known := seen[c]
			if !known || pending == 0 || written > last.written {
				last = progress{written, now}
			} else if now.Sub(last.at) > timeout && !c.closing {
				c.cutLocked("timeout")
			}
			c.mu.Unlock()
			alive[c] = last
			total += pending
		}
		seen = alive
		f.mu.Lock()
		f.overBudget = total > f.server.options.MaxTotalOutputBytes
		if len(f.behind) == 0 && !f.overBudget {
			f.cond.Broadcast()
		}
		f.mu.Unlock()
	}
}

// Room holds the members in join order; its lock makes each join, leave and relay atomic.
type Room struct {
	mu      sync.Mutex
	order   []string
	members map[string]*Connection
}

func (r *Room) broadcastLocked(message map[string]any, exclude *Connection) {
	line := encode(message) // serialise once for everyone
	for _, name := range r.order {
		if member := r.members[name]; member != exclude {
			member.SendLine(line)
		}
	}
}

func (r *Room) userListLocked() map[string]any {
	return map[string]any{"type": "user_list", "users": append([]string{}, r.order...)}
}

// TryJoin admits a connection unless the name is taken: the taken-name check and the join are one
// step, and no broadcast can fall between the four join lines.
func (r *Room) TryJoin(c *Connection, name string, encryptedKey string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, exists := r.members[name]; exists {
		return errNameTaken
	}
	r.members[name] = c
	r.order = append(r.order, name)
	c.name = name
	c.Send(map[string]any{"type": "system", "message": fmt.Sprintf(welcome, name)})
	c.Send(map[string]any{"type": "key_exchange", "encrypted_key": encryptedKey})
	c.Send(map[string]any{"type": "system", "message": secure})
	c.Send(r.userListLocked())
	r.broadcastLocked(r.userListLocked(), c)
	r.broadcastLocked(map[string]any{"type": "system", "message": fmt.Sprintf(joined, name)}, c)
	return nil
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
	r.broadcastLocked(r.userListLocked(), nil)
	r.broadcastLocked(map[string]any{"type": "system", "message": fmt.Sprintf(left, c.name)}, nil)
}

// Relay sends to every other member first, then the echo to the sender, with the sender set by us.
func (r *Room) Relay(sender *Connection, message Message) {
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
	flow         *Flow
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
	if s.shuttingDown || len(s.connections) >= s.options.MaxConnections {
		return c, false
	}
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
	err := s.serve(c)
	var refused Refused
	switch {
	case errors.As(err, &refused):
		log.Printf("refused peer=%s reason=%q", c.peer, refused.Text)
		s.refuse(c, refused.Text)
	case errors.Is(err, errLineTooLong):
		log.Printf("line too long peer=%s name=%q", c.peer, c.name)
		c.Send(map[string]any{"type": "system", "message": fmt.Sprintf(lineTooLong, s.options.MaxLineBytes)})
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

func (s *Server) serve(c *Connection) error {
	splitter := &LineSplitter{max: s.options.MaxLineBytes}
	deadline := time.Now().Add(time.Duration(s.options.HandshakeTimeoutMs) * time.Millisecond)
	c.conn.SetReadDeadline(deadline)
	admitted := false
	chunk := make([]byte, 65536)
	for {
		n, err := c.conn.Read(chunk)
		if n > 0 {
			lines, splitErr := splitter.Feed(chunk[:n])
			for _, line := range lines {
				s.flow.Wait() // backpressure: the room's output first (lab 7)
				if message := parseMessage(line); message != nil {
					if handled := s.onMessage(c, message); handled != nil {
						return handled
					}
				}
			}
			if splitErr != nil {
				return splitErr
			}
			if !admitted && s.room.Has(c.name) {
				admitted = true
				c.conn.SetReadDeadline(time.Time{}) // members are never timed out
			}
		}
		if err != nil {
			var netErr net.Error
			if !admitted && errors.As(err, &netErr) && netErr.Timeout() {
				return Refused{handshakeTimeout}
			}
			return nil
		}
	}
}

func (s *Server) onMessage(c *Connection, message Message) error {
	isMember := c.name != "" && s.room.Has(c.name)
	if message["type"] == "message" {
		if isMember {
			s.room.Relay(c, message)
		}
		return nil // ECP-ERR-03: a chat message before admission is ignored
	}
	if isMember {
		return nil // ECP-ERR-04: a second handshake is ignored
	}
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
		if s.room.Has(c.name) {
			c.Send(map[string]any{"type": "system", "message": shuttingDown})
		}
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
	server.flow = newFlow(server)
	go server.flow.Watch()
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
