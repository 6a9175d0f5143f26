Feature: Password, usernames and taken names
  One shared server password; usernames of 1 to 32 printable characters; a taken name is answered
  with a notice and the connection stays open for another try (docs/protocol.md, section 5).

  @core @lab-1 @ECP-AUTH-01
  Scenario: A wrong password is refused
    Given alice is connected
    When alice sends a handshake with a wrong password
    Then alice receives an auth_error
    And the server closes alice's connection

  @core @lab-1 @ECP-AUTH-01
  Scenario: A wrong password with a non-ASCII character is refused
    Given alice is connected
    When alice sends a handshake with the password that is the right one with a non-ASCII character
    Then alice receives an auth_error
    And the server closes alice's connection

  @strict @lab-2 @ECP-AUTH-02
  Scenario: The refusal of a wrong password says why
    Given alice is connected
    When alice sends a handshake with a wrong password
    Then alice receives the auth_error "Invalid server password"

  @core @lab-5 @ECP-AUTH-03
  Scenario: A taken name is answered with a notice and the connection stays open
    Given alice is in the room
    When mallory asks to join with alice's name
    Then mallory receives a system notice
    And mallory is not admitted
    And mallory's connection stays open

  @core @lab-5 @ECP-AUTH-03
  Scenario: Names that differ only in case are different names
    Given alice is in the room
    When bob asks to join with alice's name in upper case
    Then bob is admitted

  @core @lab-5 @ECP-AUTH-03
  Scenario: Of two handshakes racing for one free name, exactly one is admitted
    Given mallory and trudy are connected
    When mallory and trudy ask to join with the same new name at the same time
    Then exactly one of mallory and trudy is admitted and the other receives a system notice

  @strict @lab-5 @ECP-AUTH-04
  Scenario: The taken-name notice has the prototype's text
    Given alice is in the room
    When mallory asks to join with alice's name
    Then mallory receives the system notice "Username already taken"

  @core @lab-5 @ECP-AUTH-05
  Scenario: After a taken name, a handshake with a free name is admitted
    Given alice is in the room
    And mallory was told that alice's name is taken
    When mallory sends a valid handshake
    Then mallory is admitted
    And alice receives a user list that includes alice and mallory

  @core @lab-5 @ECP-LV-03
  Scenario: The name of a member who left is free again
    Given alice and bob are in the room
    When bob leaves
    And carol asks to join with bob's name
    Then carol is admitted

  @robustness @lab-6 @ECP-AUTH-06
  Scenario Outline: Invalid usernames are refused
    Given mallory is connected
    When mallory sends a handshake with <username>
    Then mallory receives the auth_error "Invalid username: must be 1-32 printable characters"
    And the server closes mallory's connection

    Examples:
      | username                                   |
      | an empty username                          |
      | a username one character over the limit    |
      | a username containing a line feed          |
      | a username containing an escape character  |
      | a username containing a delete character   |

  @robustness @lab-6 @ECP-AUTH-06
  Scenario: A username of exactly 32 characters, spaces and emoji included, is admitted
    Given alice is connected
    When alice sends a valid handshake with a 32-character name of spaces, letters and emoji
    Then alice is admitted
