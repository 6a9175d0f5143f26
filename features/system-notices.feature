Feature: System notices and leaving
  The server keeps members informed with fixed notice texts: a welcome, joins, leaves and shutdown
  (docs/protocol.md, sections 9 and 10). A member leaves by closing its connection, or when the
  server closes it.

  @strict @lab-5 @ECP-HS-03
  Scenario: The welcome notice names the new member
    Given alice is connected
    When alice sends a valid handshake
    Then alice receives the system notice "Welcome {alice}! Establishing secure connection..."
    And alice receives the system notice "Secure connection established! You can now send encrypted messages."

  @strict @lab-5 @ECP-HS-05
  Scenario: Existing members are told who joined
    Given alice and bob are in the room
    When carol joins
    Then alice and bob receive the system notice "{carol} has joined the chat"

  @core @lab-5 @ECP-LV-01
  Scenario: Remaining members learn that a member left
    Given alice and bob are in the room
    When bob leaves
    Then alice receives a user list without bob

  @strict @lab-5 @ECP-LV-02
  Scenario: Remaining members see the leave notice right after the user list
    Given alice and bob are in the room
    When bob leaves
    Then alice's next messages are, in this order:
      | type      | message                 |
      | user_list |                         |
      | system    | {bob} has left the chat |

  @core @lab-5 @ECP-LV-01
  Scenario: A member whose connection is reset leaves like any other
    Given alice and bob are in the room
    When bob's connection is reset
    Then alice receives a user list without bob

  @core @lab-5 @ECP-LV-04
  Scenario: The end of a connection that was never admitted is not announced
    Given alice is in the room
    And mallory was told that alice's name is taken
    When mallory's connection is closed
    Then alice receives no notice that alice has left the chat
    And alice is still in the room

  @core @lab-5 @ECP-LV-04
  Scenario: A connection reset before its handshake is not announced
    Given alice is in the room
    And mallory is connected
    When mallory's connection is reset
    Then alice receives nothing about mallory
    And alice is still in the room

  @robustness @lab-5 @ECP-SYS-01
  Scenario: A graceful shutdown notifies every member and then closes
    Given alice and bob are in the room
    When the server shuts down gracefully
    Then alice and bob receive the system notice "Server is shutting down"
    And the server closes alice's and bob's connections
