Feature: Transports
  ECP travels over TCP, TLS and WebSocket; above the framing nothing changes (docs/protocol.md,
  section 14). The whole suite runs over the transport of the target; these scenarios check what
  belongs to one transport.

  @core @lab-9 @ECP-TR-01
  Scenario: Members chat over any transport as they do over TCP
    Given alice and bob are in the room
    When alice sends the chat message "over any transport"
    Then bob receives "over any transport" from alice
    And alice receives "over any transport" from alice

  @core @lab-9 @ECP-TR-02 @tls
  Scenario: TLS older than 1.2 is refused
    Then a client that offers only TLS 1.1 cannot connect
    And a client that offers only TLS 1.2 can connect

  @robustness @lab-9 @ECP-TR-04 @tls
  Scenario: A plain client on the TLS port is told to use TLS
    Given mallory connects to the same port without TLS
    When mallory sends a valid handshake
    Then mallory receives an auth_error naming the port's transport
    And the server closes mallory's connection
