Feature: Framing
  Every message is one JSON object in UTF-8 followed by one line feed (docs/protocol.md, sections 2
  and 3). A server reads lines however TCP happens to split the bytes, and accepts any valid JSON
  encoding of a message.

  @core @ECP-FR-01 @ECP-MSG-01
  Scenario: Every line the server sends is one well-formed message
    Given alice and bob are in the room
    When bob sends the chat message "hello"
    And bob leaves
    Then every line alice received is one JSON object in UTF-8 ending with a single line feed
    And every message alice received has a known type and the fields of that type

  @core @ECP-FR-03 @byte-stream
  Scenario: A handshake sent one byte at a time is one message
    Given alice is connected
    When alice sends a valid handshake one byte at a time
    Then alice is admitted

  @core @ECP-FR-03 @byte-stream
  Scenario: Several messages in one write are each processed
    Given alice and bob are in the room
    When alice sends the chat messages "one", "two" and "three" in a single write
    Then bob receives "one", "two" and "three" from alice in that order

  @core @ECP-FR-03 @byte-stream
  Scenario: A multi-byte character split across writes arrives intact
    Given alice and bob are in the room
    When alice sends the plain text "naïve café 😀" one byte at a time
    Then bob receives the plain text "naïve café 😀" from alice

  @core @ECP-FR-04
  Scenario Outline: The server accepts any valid JSON encoding of a handshake
    Given alice is connected
    When alice sends a valid handshake written <style>
    Then alice is admitted

    Examples:
      | style                                 |
      | compactly                             |
      | with Python's separators              |
      | with the fields in reverse order      |
      | with every character escaped as \\uXXXX |

  @core @ECP-FR-04
  Scenario: Raw UTF-8 and surrogate-pair escapes are both understood
    Given alice and bob are in the room
    When alice sends the plain text "café 😀" written as raw UTF-8
    And alice sends the plain text "café 😀" written with \uXXXX escapes
    Then bob receives the plain text "café 😀" from alice twice

  @strict @ECP-FR-05 @byte-stream
  Scenario: A line ending in CRLF is processed like one ending in LF
    Given alice and bob are in the room
    When alice sends the chat message "over CRLF" ending the line with CR LF
    Then bob receives "over CRLF" from alice

  @core @ECP-MSG-02
  Scenario: Fields the specification does not define are ignored
    Given alice is in the room
    And bob is connected
    When bob sends a valid handshake with the extra field "colour": "blue"
    Then bob is admitted
    When bob sends the chat message "hi" with the extra field "priority": 1
    Then alice receives "hi" from bob
