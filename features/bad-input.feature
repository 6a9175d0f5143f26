Feature: Bad input
  A v1 server ignores what it cannot use and never lets one connection's bad input disturb another
  (docs/protocol.md, section 11). Where the original prototype is looser (it ends the sender's
  connection on JSON that is not an object, relays malformed chat messages as they are, and admits
  handshakes with wrongly typed fields), the stricter behaviour is a robustness SHOULD.

  @core @lab-1 @ECP-ERR-01
  Scenario Outline: Lines a server cannot use are ignored before the handshake
    Given alice is connected
    When alice sends <input>
    Then alice's connection stays open and nothing was sent back
    When alice sends a handshake with a wrong password
    Then alice receives an auth_error

    Examples:
      | input                   |
      | an empty line           |
      | a line of spaces        |
      | a line that is not JSON |

    @byte-stream
    Examples: Random bytes
      | input                 |
      | 4 KiB of random bytes |

  @core @lab-1 @ECP-ERR-01 @byte-stream
  Scenario: A handshake holding bytes that are not UTF-8 is ignored, or read without them
    Given alice is connected
    When alice sends a handshake with a wrong password that is not valid UTF-8, and the same handshake without those bytes
    Then alice receives an auth_error

  @robustness @lab-1 @ECP-ERR-11 @byte-stream
  Scenario: A handshake holding bytes that are not UTF-8 is ignored whole
    Given alice is connected
    When alice sends a handshake with a wrong password that is not valid UTF-8
    Then alice's connection stays open and nothing was sent back
    When alice sends a handshake with a wrong password
    Then alice receives an auth_error

  @core @lab-1 @ECP-ERR-02
  Scenario Outline: Objects without a known client message type are ignored before the handshake
    Given alice is connected
    When alice sends <input>
    Then alice's connection stays open and nothing was sent back
    When alice sends a handshake with a wrong password
    Then alice receives an auth_error

    Examples:
      | input                                          |
      | an object without a type                       |
      | an object whose type is 42                     |
      | an object of the unknown type "shout"          |
      | an object of the server type "auth_error"      |
      | a handshake with a wrong password whose type field is spelled Type |

  @core @lab-2 @ECP-ERR-06
  Scenario Outline: A handshake with a missing field is refused
    Given mallory is connected
    When mallory sends a handshake <fault>
    Then the server closes mallory's connection
    And mallory is never admitted

    Examples:
      | fault                                 |
      | without the username field            |
      | without the server_password field     |
      | without the public_key field          |
      | whose field names are capitalised     |

  @robustness @lab-2 @ECP-ERR-10
  Scenario Outline: A handshake with a wrongly typed field is refused
    Given mallory is connected
    When mallory sends a handshake <fault>
    Then the server closes mallory's connection
    And mallory is never admitted

    Examples:
      | fault                           |
      | whose username is a number      |
      | whose server_password is a list |
      | whose public_key is null        |

  @robustness @lab-2 @ECP-ERR-07
  Scenario Outline: The refusal of a malformed handshake says why
    Given mallory is connected
    When mallory sends a handshake <fault>
    Then mallory receives an auth_error starting "Invalid handshake: "

    Examples:
      | fault                           |
      | without the public_key field    |
      | whose server_password is a list |
      | whose username is a number      |

  @core @lab-4 @ECP-ERR-03
  Scenario: A chat message before the handshake is ignored
    Given alice is in the room
    And mallory is connected
    When mallory sends the chat message "let me in" without having joined
    And mallory sends a valid handshake
    Then mallory is admitted
    And alice never receives "let me in"

  @core @lab-5 @ECP-ERR-03
  Scenario: A chat message after a taken-name notice is ignored
    Given alice is in the room
    And mallory was told that alice's name is taken
    When mallory sends the chat message "am I in?" without having joined
    Then alice never receives "am I in?"

  @core @lab-6 @ECP-ERR-01
  Scenario Outline: Lines a server cannot use are ignored
    Given alice and bob are in the room
    When alice sends <input>
    Then alice's connection stays open and nothing was sent back
    And bob receives nothing from alice before her next message
    And the room still works for alice and bob

    Examples:
      | input                   |
      | an empty line           |
      | a line of spaces        |
      | a line that is not JSON |

    @byte-stream
    Examples: Random bytes
      | input                 |
      | 4 KiB of random bytes |

  @core @lab-6 @ECP-ERR-01 @byte-stream
  Scenario: A chat message holding bytes that are not UTF-8 is ignored, or relayed without them
    Given alice and bob are in the room
    When alice sends a line that is not valid UTF-8
    Then alice and bob receive nothing from it, or alice's chat message without those bytes
    And the room still works for alice and bob

  @robustness @lab-6 @ECP-ERR-11 @byte-stream
  Scenario: A chat message holding bytes that are not UTF-8 is ignored whole
    Given alice and bob are in the room
    When alice sends a line that is not valid UTF-8
    Then alice's connection stays open and nothing was sent back
    And bob receives nothing from alice before her next message

  @core @lab-6 @ECP-ERR-02
  Scenario Outline: Objects without a known client message type are ignored
    Given alice and bob are in the room
    When alice sends <input>
    Then alice's connection stays open and nothing was sent back
    And bob receives nothing from alice before her next message
    And the room still works for alice and bob

    Examples:
      | input                                    |
      | an object without a type                 |
      | an object whose type is 42               |
      | an object of the unknown type "shout"    |
      | an object of the server type "system"    |
      | an object of the server type "user_list" |
      | a chat message whose type field is spelled Type |

  @core @lab-6 @ECP-ERR-04
  Scenario: A second handshake from a member is ignored
    Given alice and bob are in the room
    When alice sends another valid handshake with the name "impostor"
    Then alice receives no second key_exchange
    And bob receives no user list that names "impostor"
    And alice's chat messages still come from alice

  @core @lab-6 @ECP-ERR-09
  Scenario Outline: Bad input from one member never disturbs the others
    Given alice, bob and carol are in the room
    When alice sends <input>
    Then the room still works for bob and carol

    Examples:
      | input                                         |
      | the JSON array []                             |
      | the JSON string "hello"                       |
      | the JSON number 42                            |
      | the JSON null                                 |
      | a chat message without the message field      |
      | a chat message without the encrypted field    |
      | a chat message whose message is a number      |
      | a chat message whose encrypted is the string "yes" |

  @robustness @lab-6 @ECP-ERR-08
  Scenario Outline: JSON that is not an object is ignored
    Given alice and bob are in the room
    When alice sends <input>
    Then alice's connection stays open and nothing was sent back
    And the room still works for alice and bob

    Examples:
      | input                   |
      | the JSON array []       |
      | the JSON string "hello" |
      | the JSON number 42      |
      | the JSON null           |

  @robustness @lab-6 @ECP-ERR-05
  Scenario Outline: A chat message with a missing or wrongly typed field is ignored
    Given alice and bob are in the room
    When alice sends a chat message <fault>
    Then alice's connection stays open and nothing was sent back
    And bob receives nothing from alice before her next message

    Examples:
      | fault                               |
      | without the message field           |
      | without the encrypted field         |
      | whose message is a number           |
      | whose encrypted is the string "yes" |
