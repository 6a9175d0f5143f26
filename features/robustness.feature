Feature: Robustness
  Bad input is ignored and never ends anyone's session; limits bound what one peer can cost; the
  room keeps working with slow, silent, abrupt or many clients (docs/protocol.md, sections 11 and 12).

  @core @ECP-ERR-01
  Scenario Outline: Lines a server cannot use are ignored
    Given alice and bob are in the room
    When alice sends <input>
    Then alice's connection stays open and nothing was sent back
    And the room still works for alice and bob

    Examples:
      | input                          |
      | an empty line                  |
      | a line of spaces               |
      | a line that is not JSON        |
      | the JSON array []              |
      | the JSON string "hello"        |
      | the JSON number 42             |
      | the JSON null                  |

    @byte-stream
    Examples: bytes, not text
      | input                          |
      | a line that is not valid UTF-8 |
      | 4 KiB of random bytes          |

  @core @ECP-ERR-02
  Scenario Outline: Objects without a known client message type are ignored
    Given alice and bob are in the room
    When alice sends <input>
    Then alice's connection stays open and nothing was sent back
    And the room still works for alice and bob

    Examples:
      | input                                |
      | an object without a type             |
      | an object whose type is 42           |
      | an object of the unknown type "shout" |
      | an object of the server type "system" |
      | an object of the server type "user_list" |

  @core @ECP-ERR-01 @ECP-ERR-02 @byte-stream
  Scenario: Garbage before the handshake does not stop a later handshake
    Given alice is connected
    When alice sends 4 KiB of random bytes
    And alice sends an object of the unknown type "shout"
    And alice sends a valid handshake
    Then alice is admitted

  @core @ECP-ERR-03
  Scenario: A chat message before the handshake is ignored
    Given alice is in the room
    And mallory is connected
    When mallory sends the chat message "let me in" without having joined
    And mallory sends a valid handshake
    Then mallory is admitted
    And alice never receives "let me in"

  @core @ECP-ERR-03
  Scenario: A chat message after a taken-name notice is ignored
    Given alice is in the room
    And mallory was told that alice's name is taken
    When mallory sends the chat message "am I in?" without having joined
    Then alice never receives "am I in?"

  @core @ECP-ERR-04
  Scenario: A second handshake from a member is ignored
    Given alice and bob are in the room
    When alice sends another valid handshake with the name "impostor"
    Then alice receives no second key_exchange
    And bob receives no user list that names "impostor"
    And alice's chat messages still come from alice

  @core @ECP-ERR-05
  Scenario Outline: A chat message with a missing or wrongly typed field is ignored
    Given alice and bob are in the room
    When alice sends a chat message <fault>
    Then alice's connection stays open and nothing was sent back
    And bob receives nothing from alice before her next message

    Examples:
      | fault                              |
      | without the message field          |
      | without the encrypted field        |
      | whose message is a number          |
      | whose encrypted is the string "yes" |

  @core @ECP-ERR-06
  Scenario Outline: A handshake with a missing or wrongly typed field is refused
    Given alice is in the room
    And mallory is connected
    When mallory sends a handshake <fault>
    Then the server closes mallory's connection
    And mallory is never admitted

    Examples:
      | fault                          |
      | without the username field     |
      | without the server_password field |
      | without the public_key field   |
      | whose username is a number     |
      | whose public_key is null       |

  @robustness @ECP-ERR-07
  Scenario Outline: The refusal of a malformed handshake says why
    Given mallory is connected
    When mallory sends a handshake <fault>
    Then mallory receives an auth_error starting "Invalid handshake: "
    And the server closes mallory's connection

    Examples:
      | fault                          |
      | without the public_key field   |
      | whose server_password is a list |

  @core @ECP-CHAT-05
  Scenario: A burst of 1,000 messages arrives complete and in order
    Given alice and bob are in the room
    When alice sends 1000 numbered chat messages without waiting
    Then bob and alice receive alice's 1000 messages complete and in order

  @core @ECP-CHAT-01
  Scenario: A room of many members
    Given 40 members are in the room
    When the first member sends the chat message "hello, crowd"
    Then every member receives "hello, crowd" from the first member

  @core @ECP-LV-04
  Scenario: A connection that ends before its handshake is not announced
    Given alice is in the room
    And mallory is connected
    When mallory's connection is reset
    Then alice receives nothing about mallory
    And alice is still in the room

  @robustness @ECP-LIM-01 @byte-stream
  Scenario: A line over the limit is refused and its member leaves
    Given alice and bob are in the room
    When alice sends a line one byte longer than the line limit
    Then alice receives the line-too-long notice with the line limit
    And the server closes alice's connection
    And bob receives a user list without alice

  @robustness @ECP-LIM-01
  Scenario: A line of exactly the line limit is processed normally
    Given alice and bob are in the room
    When alice sends a chat message exactly as long as the line limit
    Then bob receives exactly that payload from alice

  @robustness @ECP-LIM-02
  Scenario: An idle connection that never sends a handshake is closed
    Given mallory is connected
    When mallory sends nothing for the handshake timeout
    Then mallory receives the auth_error "Handshake timeout"
    And the server closes mallory's connection

  @robustness @ECP-LIM-02
  Scenario: The handshake timeout still runs after a taken-name notice
    Given alice is in the room
    And mallory was told that alice's name is taken
    When mallory sends nothing for the handshake timeout
    Then mallory receives the auth_error "Handshake timeout"
    And alice is still in the room

  @robustness @ECP-LIM-02
  Scenario: A member is never timed out
    Given alice and bob are in the room
    When alice sends nothing for the handshake timeout
    Then the room still works for alice and bob

  @robustness @ECP-LIM-03
  Scenario: A member that stops reading does not delay the others
    Given alice, bob and carol are in the room
    When alice stops reading
    And carol floods the room with more than the pending-output limit
    Then bob receives every one of carol's messages promptly

  @robustness @ECP-LIM-04
  Scenario: A member that stops reading is disconnected
    Given alice, bob and carol are in the room
    When alice stops reading
    And carol floods the room with more than the pending-output limit
    Then bob receives a user list without alice

  @robustness @ECP-LIM-06 @ECP-LIM-04
  Scenario: A burst far past the pending-output limit reaches every member that reads, and cuts only the one that stopped
    Given alice, bob and carol are in the room
    When carol stops reading
    And bob reads at a steady 16 MB/s
    And alice sends a burst of several times the pending-output limit as fast as the connection takes it
    Then bob and alice receive every message of alice's burst, in order
    And bob receives a user list without carol
    And the room still works for alice and bob

  @robustness @ECP-LIM-06 @ECP-LIM-07
  Scenario: A burst far past the pending-output limit cuts nobody who reads
    Given alice, bob and carol are in the room
    When bob reads at a steady 16 MB/s
    And alice sends a burst of several times the pending-output limit as fast as the connection takes it
    Then bob, carol and alice receive every message of alice's burst, in order
    And the room still works for alice, bob and carol

  @robustness @ECP-LIM-05
  Scenario: Connections beyond the connection limit are refused
    Given as many connections as the connection limit allows are open
    When one more client connects and sends a valid handshake
    Then the connection over the limit receives the auth_error "Server full"
    And the server closes the connection over the limit
