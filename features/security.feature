Feature: Security
  A wrong password never admits anyone, nobody can speak as someone else, unusable keys are
  refused, and nothing meant for members reaches a connection that was not admitted
  (docs/protocol.md, sections 6, 7 and 13).

  @core @lab-2 @ECP-AUTH-01
  Scenario Outline: A wrong password never admits
    Given mallory is connected
    When mallory sends a handshake with the password <password>
    Then mallory receives an auth_error
    And the server closes mallory's connection
    And mallory is never admitted

    Examples:
      | password                                         |
      | that is empty                                    |
      | that is the right one in upper case              |
      | that is the right one with a trailing space      |
      | that is the right one without its last character |
      | that is the right one with an extra character    |

  @robustness @lab-2 @ECP-SEC-02
  Scenario: A wrong password is never repeated back
    Given mallory is connected
    When mallory sends a handshake with a distinctive wrong password
    Then mallory receives an auth_error
    And no line the server sent contains that password
    And the server's output does not contain that password

  @robustness @lab-3 @ECP-KX-04
  Scenario Outline: A public key that is not an RSA SubjectPublicKeyInfo is refused
    Given alice is in the room
    And mallory is connected
    When mallory sends a handshake with <key>
    Then mallory receives an auth_error starting "Invalid public key: "
    And the server closes mallory's connection
    And mallory is never admitted

    Examples:
      | key                                   |
      | a PEM block that holds no key         |
      | an EC P-256 public key                |
      | a public key that is not PEM at all   |

  @robustness @lab-3 @ECP-KX-05
  Scenario: A public key shorter than 2048 bits is refused
    Given alice is in the room
    And mallory is connected
    When mallory sends a handshake with a 1024-bit RSA public key
    Then mallory receives an auth_error starting "Invalid public key: "
    And the server closes mallory's connection
    And mallory is never admitted

  @core @lab-4 @ECP-CHAT-03
  Scenario: A member cannot send as someone else
    Given alice and bob are in the room
    When alice sends the chat message "I am bob" claiming to be bob
    Then bob receives "I am bob" from alice
    And alice receives her own "I am bob" back

  @core @lab-4 @ECP-SEC-01
  Scenario: Nothing meant for members reaches a connection that was not admitted
    Given mallory is connected
    And trudy sends a handshake with a wrong password
    When alice and bob join
    And alice sends the chat message "members only"
    Then bob receives "members only" from alice
    And mallory and trudy received no key_exchange, user list or chat message

  @core @lab-5 @ECP-SEC-01
  Scenario: A connection told its name is taken receives nothing meant for members
    Given alice is in the room
    And mallory was told that alice's name is taken
    When bob joins
    And alice sends the chat message "members only"
    Then bob receives "members only" from alice
    And mallory received no key_exchange, user list or chat message
