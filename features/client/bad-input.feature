Feature: Bad input and key changes (client)
  The room may send what the client does not know or cannot use, a new room key at any time, and
  may end the session. The client ignores what it cannot use and keeps working.

  @ECP-MSG-03 @core @lab-13
  Scenario: The client ignores lines that are not JSON, and blank lines
    Given the client has joined the room
    When the kit sends the client the line "this is not JSON {"
    And the kit sends the client a blank line
    And bob sends "still here" sealed with the room key
    Then the client shows "still here" from bob, encrypted
    And the client is still connected

  @ECP-MSG-03 @core @lab-13 @message-level
  Scenario: The client ignores a message of a type it does not know
    Given the client has joined the room
    When the kit sends the client the line "{\"type\": \"reaction\", \"emoji\": \"+1\", \"sender\": \"bob\"}"
    And bob sends "after the reaction" sealed with the room key
    Then the client shows "after the reaction" from bob, encrypted
    And the client is still connected

  @ECP-MSG-03 @core @lab-13 @message-level
  Scenario: The client ignores fields it does not know
    Given the client has joined the room
    When bob sends "with extras" sealed with the room key, with fields the client does not know
    Then the client shows "with extras" from bob, encrypted

  @ECP-MSG-03 @core @lab-13 @byte-stream
  Scenario: The client reads a line that arrives one byte at a time
    Given the client has joined the room
    When bob sends "one byte at a time" sealed with the room key, one byte per write
    Then the client shows "one byte at a time" from bob, encrypted

  @ECP-MSG-03 @core @lab-13
  Scenario: The client reads a line of nearly 1 MiB
    Given the client has joined the room
    When bob sends a text long enough for a line of nearly 1 MiB, sealed with the room key
    Then the client shows bob's long text, encrypted

  @ECP-MSG-05 @robustness @lab-13 @message-level
  Scenario: The client ignores JSON lines that are not objects
    Given the client has joined the room
    When the kit sends the client the line "[]"
    And the kit sends the client the line "42"
    And the kit sends the client the line "null"
    And bob sends "after the arrays" sealed with the room key
    Then the client shows "after the arrays" from bob, encrypted

  @ECP-MSG-05 @robustness @lab-13 @message-level
  Scenario: The client ignores a chat message without its fields
    Given the client has joined the room
    When the kit sends the client the line "{\"type\": \"message\", \"sender\": \"bob\"}"
    And bob sends "after the empty one" sealed with the room key
    Then the client shows "after the empty one" from bob, encrypted

  @ECP-MSG-05 @robustness @lab-13 @byte-stream
  Scenario: The client reads a character split across two reads
    Given the client has joined the room
    When bjørn sends "split" sealed with the room key, the ø split across two reads
    Then the client shows "split" from bjørn, encrypted

  @ECP-MSG-05 @robustness @lab-13 @byte-stream
  Scenario: The client ignores a line that is not UTF-8
    Given the client has joined the room
    When the kit sends the client a line that is not UTF-8
    And bob sends "after the bad bytes" sealed with the room key
    Then the client shows "after the bad bytes" from bob, encrypted

  @ECP-KX-07 @core @lab-13 @message-level
  Scenario: The client seals with a new room key sent mid-session
    Given the client has joined the room
    When the room sends the client a new room key
    And the user sends "under my new key"
    Then the kit receives "under my new key" sealed with the new room key

  @ECP-KX-07 @core @lab-13 @message-level
  Scenario: The client decrypts with a new room key sent mid-session
    Given the client has joined the room
    When the room sends the client a new room key
    And bob sends "fresh" sealed with the room key
    Then the client shows "fresh" from bob, encrypted

  @ECP-LV-05 @strict @lab-13
  Scenario: The client ends the session when the server drops the connection
    Given the client has joined the room
    When the room closes the connection abruptly
    Then the client ends the session
