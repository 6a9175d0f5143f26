Feature: WebSocket
  Over WebSocket, each message is one text frame; the subprotocol is ecp.v1; frames that are not
  one ECP message close the connection with a documented code (docs/protocol.md, section 14.2).

  @core @lab-10 @ECP-TR-05 @websocket
  Scenario: Every frame the server sends holds one message
    Given alice and bob are in the room
    When bob sends the chat message "one frame each"
    And bob leaves
    Then every frame alice received holds one JSON object and no line feed

  @core @lab-10 @ECP-TR-06 @websocket
  Scenario: A message with or without a trailing line feed is accepted
    Given alice and bob are in the room
    When alice sends the chat message "with LF" in a frame ending with a line feed
    And alice sends the chat message "with CR LF" in a frame ending with CR LF
    Then bob receives "with LF" from alice
    And bob receives "with CR LF" from alice

  @robustness @lab-10 @ECP-TR-07 @websocket
  Scenario: The server selects the ecp.v1 subprotocol
    Given alice is connected
    Then alice's connection uses the subprotocol "ecp.v1"

  @robustness @lab-10 @ECP-TR-07 @websocket
  Scenario: A client that offers no subprotocol is served
    Given alice connects without offering a subprotocol
    When alice sends a valid handshake
    Then alice is admitted

  @robustness @lab-10 @ECP-TR-07 @websocket
  Scenario: An upgrade that offers only other subprotocols is refused
    Then an upgrade offering only the subprotocol "chat" is refused with HTTP status 400

  @robustness @lab-10 @ECP-TR-08 @websocket
  Scenario: A binary frame closes the connection with 1003
    Given alice and bob are in the room
    When alice sends a binary frame
    Then the server closes alice's connection with close code 1003
    And bob receives a user list without alice

  @robustness @lab-10 @ECP-TR-09 @websocket
  Scenario: A frame over the line limit closes the connection with 1009
    Given alice and bob are in the room
    When alice sends a frame one byte longer than the line limit
    Then the server closes alice's connection with close code 1009
    And bob receives a user list without alice

  @robustness @lab-10 @ECP-TR-09 @websocket
  Scenario: A frame of exactly the line limit is processed normally
    Given alice and bob are in the room
    When alice sends a chat message exactly as long as the line limit
    Then bob receives exactly that payload from alice

  @robustness @lab-10 @ECP-TR-10 @websocket
  Scenario: A frame holding two messages closes the connection with 1007
    Given alice and bob are in the room
    When alice sends the chat messages "first" and "second" in one frame
    Then the server closes alice's connection with close code 1007
    And bob never receives "second"

  @core @lab-10 @ECP-TR-11 @websocket
  Scenario: A text frame that is not valid UTF-8 closes the connection with 1007
    Given alice and bob are in the room
    When alice sends a text frame that is not valid UTF-8
    Then the server closes alice's connection with close code 1007
    And bob receives a user list without alice

  @robustness @lab-10 @ECP-TR-12 @websocket
  Scenario: An upgrade on another path is refused with 404
    Then an upgrade on another path is refused with HTTP status 404
