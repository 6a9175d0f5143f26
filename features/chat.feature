Feature: Chat messages
  The server relays each chat message to every other member, then echoes it to the sender, with a
  sender it sets itself and the payload exactly as sent (docs/protocol.md, section 7).

  @core @lab-4 @ECP-CHAT-01
  Scenario: A chat message reaches every member, the sender included
    Given alice, bob and carol are in the room
    When alice sends the chat message "hello everyone"
    Then bob and carol receive "hello everyone" from alice
    And alice receives her own "hello everyone" back

  @core @lab-4 @ECP-CHAT-01
  Scenario: A member alone in the room gets the echo
    Given alice is in the room
    When alice sends the chat message "anyone here?"
    Then alice receives her own "anyone here?" back

  @strict @lab-4 @ECP-CHAT-02
  Scenario: Other members receive a message before the sender gets its echo
    Given alice and bob are in the room
    When alice sends 20 chat messages, each after the echo of the one before
    Then bob received each of them no later than alice received its echo

  @core @lab-4 @ECP-CHAT-03
  Scenario: The sender is the name the member was admitted with
    Given alice and bob are in the room
    When bob sends the chat message "who am I?"
    Then alice receives "who am I?" from bob
    And bob receives his own "who am I?" back

  @core @lab-4 @ECP-CHAT-04
  Scenario Outline: Payloads and flags are relayed exactly as sent, never checked
    Given alice and bob are in the room
    When alice sends the payload "<payload>" with encrypted <flag>
    Then bob receives exactly the payload "<payload>" with encrypted <flag> from alice

    Examples:
      | payload                      | flag  |
      | hello in plain text          | false |
      | not base64 at all!           | true  |
      | bm90IGEgRmVybmV0IHRva2Vu     | true  |
      |                              | false |

  @core @lab-4 @ECP-CHAT-04
  Scenario: A token made with another key is relayed unchanged
    Given alice and bob are in the room
    When alice sends a chat message encrypted with a key that is not the room key
    Then bob receives exactly that payload from alice

  @core @lab-4 @ECP-CHAT-05
  Scenario: Messages from one sender arrive in the order they were sent
    Given alice, bob and carol are in the room
    When alice sends 20 numbered chat messages without waiting
    Then bob and carol receive alice's 20 messages complete and in order
