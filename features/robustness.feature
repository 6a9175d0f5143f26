Feature: Robustness
  Limits bound what one peer can cost; the room keeps working with slow, silent, abrupt or many
  clients (docs/protocol.md, section 12).

  @robustness @lab-6 @ECP-LIM-01 @byte-stream
  Scenario: A line over the limit ends its member's connection
    Given alice and bob are in the room
    When alice sends a line one byte longer than the line limit
    Then the server closes alice's connection
    And bob receives a user list without alice

  @robustness @lab-6 @ECP-LIM-06 @byte-stream
  Scenario: The server says why it closes a connection for an over-long line
    Given alice and bob are in the room
    When alice sends a line one byte longer than the line limit
    Then alice receives the line-too-long notice with the line limit

  @robustness @lab-6 @ECP-LIM-01
  Scenario: A line of exactly the line limit is processed normally
    Given alice and bob are in the room
    When alice sends a chat message exactly as long as the line limit
    Then bob receives exactly that payload from alice

  @robustness @lab-6 @ECP-LIM-02
  Scenario: An idle connection that never sends a handshake is closed
    Given mallory is connected
    When mallory sends nothing for the handshake timeout
    Then mallory receives the auth_error "Handshake timeout"
    And the server closes mallory's connection

  @robustness @lab-6 @ECP-LIM-02
  Scenario: The handshake timeout still runs after a taken-name notice
    Given alice is in the room
    And mallory was told that alice's name is taken
    When mallory sends nothing for the handshake timeout
    Then mallory receives the auth_error "Handshake timeout"
    And alice is still in the room

  @robustness @lab-6 @ECP-LIM-02
  Scenario: A member is never timed out
    Given alice and bob are in the room
    When alice sends nothing for the handshake timeout
    Then the room still works for alice and bob

  @robustness @lab-6 @ECP-LIM-05
  Scenario: Connections beyond the connection limit are refused
    Given as many connections as the connection limit allows are open
    When one more client connects and sends a valid handshake
    Then the connection over the limit receives the auth_error "Server full"
    And the server closes the connection over the limit

  @core @lab-7 @ECP-CHAT-05
  Scenario: A burst of 1,000 messages arrives complete and in order
    Given alice and bob are in the room
    When alice sends 1000 numbered chat messages without waiting
    Then bob and alice receive alice's 1000 messages complete and in order

  @core @lab-7 @ECP-CHAT-01
  Scenario: A room of many members
    Given 40 members are in the room
    When the first member sends the chat message "hello, crowd"
    Then every member receives "hello, crowd" from the first member

  @robustness @lab-7 @ECP-LIM-03
  Scenario: A member that stops reading does not delay the others
    Given alice, bob and carol are in the room
    When alice stops reading
    And carol floods the room with more than the pending-output limit
    Then bob receives every one of carol's messages promptly

  @robustness @lab-7 @ECP-LIM-04
  Scenario: A member that stops reading is disconnected
    Given alice, bob and carol are in the room
    When alice stops reading
    And carol floods the room with more than the pending-output limit
    Then bob receives a user list without alice

  @robustness @lab-7 @ECP-LIM-07
  Scenario: A burst far past the pending-output limit reaches every member that reads, and cuts only the one that stopped
    Given alice, bob and carol are in the room
    When carol stops reading
    And bob reads at a steady 16 MB/s
    And alice sends a burst of several times the pending-output limit as fast as the connection takes it
    Then bob and alice receive every message of alice's burst, in order
    And bob receives a user list without carol
    And the room still works for alice and bob

  @robustness @lab-7 @ECP-LIM-08
  Scenario: A burst far past the pending-output limit cuts nobody who reads
    Given alice, bob and carol are in the room
    When bob reads at a steady 16 MB/s
    And alice sends a burst of several times the pending-output limit as fast as the connection takes it
    Then bob, carol and alice receive every message of alice's burst, in order
    And the room still works for alice, bob and carol
