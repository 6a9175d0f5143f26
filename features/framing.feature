Feature: Framing
  Every message is one JSON object in UTF-8 followed by one line feed (docs/protocol.md, sections 2
  and 3). A server reads lines however TCP happens to split the bytes, and accepts any valid JSON
  encoding of a message.

  @core @lab-1 @ECP-FR-01
  Scenario: The answer to a handshake is one JSON object on one line
    Given alice is connected
    When alice sends a handshake with a wrong password
    Then alice receives an auth_error
    And every line alice received is one JSON object in UTF-8 ending with a single line feed

  @core @lab-1 @ECP-MSG-01
  Scenario: The answer to a handshake is a message of a known type with its fields
    Given alice is connected
    When alice sends a handshake with a wrong password
    Then alice receives an auth_error
    And every message alice received has a known type and the fields of that type

  @core @lab-1 @ECP-FR-03 @byte-stream
  Scenario: A handshake sent one byte at a time is one message
    Given alice is connected
    When alice sends a handshake with a wrong password one byte at a time
    Then alice receives an auth_error

  @core @lab-1 @ECP-FR-03 @byte-stream
  Scenario: Two lines in one write are each processed
    Given alice is connected
    When alice sends an object of the unknown type "shout" and a handshake with a wrong password in a single write
    Then alice receives an auth_error

  @core @lab-1 @ECP-FR-04
  Scenario Outline: A handshake is understood in any valid JSON encoding
    Given alice is connected
    When alice sends a handshake with a wrong password written <style>
    Then alice receives an auth_error

    Examples:
      | style                                   |
      | compactly                               |
      | with Python's separators                |
      | with the fields in reverse order        |
      | with every character escaped as \\uXXXX |

  @strict @lab-1 @ECP-FR-05 @byte-stream
  Scenario: A line ending in CRLF is processed like one ending in LF
    Given alice is connected
    When alice sends a handshake with a wrong password ending the line with CR LF
    Then alice receives an auth_error

  @strict @lab-1 @ECP-FR-06 @byte-stream
  Scenario: A fragment without a line feed at the end of a connection is not a message
    Given alice is connected
    When alice sends a handshake with a wrong password without the line feed
    And alice closes her side of the connection
    Then alice received no answer

  @core @lab-3 @ECP-FR-04
  Scenario Outline: A valid handshake is admitted in any valid JSON encoding
    Given alice is connected
    When alice sends a valid handshake written <style>
    Then alice is admitted

    Examples:
      | style                                   |
      | compactly                               |
      | with Python's separators                |
      | with the fields in reverse order        |
      | with every character escaped as \\uXXXX |

  @core @lab-3 @ECP-MSG-02
  Scenario: Fields a handshake does not define are ignored
    Given alice is connected
    When alice sends a valid handshake with the extra field "colour": "blue"
    Then alice is admitted

  @core @lab-4 @ECP-FR-01
  Scenario: Every line the server sends to a member is one JSON object on one line
    Given alice and bob are in the room
    When bob sends the chat message "hello"
    And bob leaves
    Then every line alice received is one JSON object in UTF-8 ending with a single line feed

  @core @lab-4 @ECP-MSG-01
  Scenario: Every message the server sends to a member has a known type and its fields
    Given alice and bob are in the room
    When bob sends the chat message "hello"
    And bob leaves
    Then every message alice received has a known type and the fields of that type

  @core @lab-4 @ECP-FR-03 @byte-stream
  Scenario: Several messages in one write are each processed
    Given alice and bob are in the room
    When alice sends the chat messages "one", "two" and "three" in a single write
    Then bob receives "one", "two" and "three" from alice in that order

  @robustness @lab-4 @ECP-FR-07 @byte-stream
  Scenario: A multi-byte character split across reads arrives intact
    Given alice and bob are in the room
    When alice sends the plain text "naïve café 😀" split inside a character, in two reads
    Then bob receives the plain text "naïve café 😀" from alice

  @core @lab-4 @ECP-FR-04
  Scenario: Raw UTF-8 and surrogate-pair escapes are both understood
    Given alice and bob are in the room
    When alice sends the plain text "café 😀" written as raw UTF-8
    And alice sends the plain text "café 😀" written with \uXXXX escapes
    Then bob receives the plain text "café 😀" from alice twice

  @core @lab-4 @ECP-MSG-02
  Scenario: Fields a chat message does not define are ignored
    Given alice and bob are in the room
    When bob sends the chat message "hi" with the extra field "priority": 1
    Then alice receives "hi" from bob

  @strict @lab-6 @ECP-FR-05 @byte-stream
  Scenario: The CR of a CRLF ending does not count toward the line limit
    Given alice and bob are in the room
    When alice sends a chat message exactly as long as the line limit, ending the line with CR LF
    Then bob receives exactly that payload from alice
