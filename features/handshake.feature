Feature: Handshake and join sequence
  A client's first message is a handshake. A server that accepts it admits the connection: the new
  member receives the room key and the user list, and every other member learns about it
  (docs/protocol.md, section 4).

  @core @lab-3 @ECP-HS-02
  Scenario: A valid handshake is admitted
    Given alice is connected
    When alice sends a valid handshake
    Then alice receives a key_exchange
    And alice receives a user list that includes alice

  @strict @lab-5 @ECP-HS-03
  Scenario: The join sequence comes in the prototype's order and wording
    Given alice is connected
    When alice sends a valid handshake
    Then alice's next messages are, in this order:
      | type         | message                                                             |
      | system       | Welcome {alice}! Establishing secure connection...                  |
      | key_exchange |                                                                     |
      | system       | Secure connection established! You can now send encrypted messages. |
      | user_list    |                                                                     |

  @core @lab-3 @ECP-HS-04
  Scenario: Existing members learn about a new member
    Given alice is in the room
    When bob joins
    Then alice receives a user list that includes alice and bob

  @strict @lab-5 @ECP-HS-05
  Scenario: Existing members see the join notice right after the user list
    Given alice is in the room
    When bob joins
    Then alice's next messages are, in this order:
      | type      | message                   |
      | user_list |                           |
      | system    | {bob} has joined the chat |
    And bob receives no notice that bob has joined the chat
