Feature: Chatting and decrypting (client)
  The client seals what its user types with the room key and shows what others say, decrypted;
  a payload it cannot decrypt is never shown as the sender's text.

  @ECP-CHAT-06 @core @lab-12 @message-level
  Scenario: The client sends its text as the standard base64 of a Fernet token, with encrypted true
    Given the client has joined the room
    When the user sends "Grüße, ✓ and \"quotes\""
    Then the kit receives "Grüße, ✓ and \"quotes\"" with "encrypted": true and the standard base64 of a Fernet token of its UTF-8 text

  @ECP-FR-02 @core @lab-12
  Scenario: Every message the client sends is one JSON object on a line of its own
    Given the client has joined the room
    When the user sends "a backslash \\ and a tab	in it"
    And the user sends "ünïcödé, and more"
    Then every message the client sent is one JSON object in UTF-8 on a line of its own

  @ECP-MSG-04 @core @lab-12 @message-level
  Scenario: The client never sends an object with two members of the same name
    Given the client has joined the room
    When the user sends "one"
    Then no message the client sent has two members of the same name

  @ECP-CHAT-07 @core @lab-12
  Scenario: The client shows a message sealed with the room key as the sender's text
    Given the client has joined the room
    When bob sends "hi alice" sealed with the room key
    Then the client shows "hi alice" from bob, encrypted

  @ECP-CHAT-07 @core @lab-12 @message-level
  Scenario: The client decrypts a token however old it is
    Given the client has joined the room
    When bob sends "written long ago" sealed with the room key in 2001
    Then the client shows "written long ago" from bob, encrypted

  @ECP-CHAT-07 @core @lab-12 @message-level
  Scenario: A tampered token is never shown as the sender's text
    Given the client has joined the room
    When bob sends "forged" sealed with the room key, one byte of the token changed
    And bob sends "after the forgery" sealed with the room key
    Then the client shows "after the forgery" from bob, encrypted
    And the client showed nothing else as a text from bob

  @ECP-CHAT-07 @core @lab-12 @message-level
  Scenario: A message sealed with another key is never shown as the sender's text
    Given the client has joined the room
    When bob sends "not for you" sealed with another key
    And bob sends "for you" sealed with the room key
    Then the client shows "for you" from bob, encrypted
    And the client showed nothing else as a text from bob

  @ECP-SEC-03 @strict @lab-12 @message-level
  Scenario: The client tells its user that a message came in the clear
    Given the client has joined the room
    When bob sends "plain words" in the clear
    Then the client shows "plain words" from bob, marked as not encrypted

  @ECP-TR-14 @core @lab-12 @websocket
  Scenario: The client sends each message as one text frame
    Given the client has joined the room
    When the user sends "first frame"
    And the user sends "second frame"
    Then every message the client sent is one JSON object in UTF-8 on a line of its own

  @ECP-TR-14 @core @lab-12 @websocket
  Scenario: The client accepts a frame without a trailing line feed
    Given the client has joined the room
    When bob sends "no line feed" sealed with the room key, in a frame without a line feed
    Then the client shows "no line feed" from bob, encrypted
