Feature: Joining a room (client)
  The kit plays the room, as the original prototype's server does, and starts the client under
  test with the room's address, a username and the password. These scenarios check the client's
  side of the join: its handshake, its key, a refusal, and (over TLS) the server's certificate.

  @ECP-HS-01 @core @lab-11
  Scenario: The client's first message is a handshake with its name, the password and its key
    When the client joins the room
    Then the client's first message is a handshake with its username, the password and a public key, all strings

  @ECP-KX-01 @core @lab-11 @message-level
  Scenario: The client presents an RSA public key of at least 2048 bits with exponent 65537
    When the client joins the room
    Then the client's public key is an RSA key of at least 2048 bits with exponent 65537, in PEM SubjectPublicKeyInfo

  @ECP-KX-06 @core @lab-12
  Scenario: The client unwraps the room key and seals its messages with it
    Given the client has joined the room
    When the user sends "hello, room"
    Then the kit receives "hello, room" sealed with the room key

  @ECP-AUTH-07 @core @lab-11
  Scenario: A client refused for a wrong password is not a member
    Given the room's password is not the one the client is given
    When the client tries to join the room
    Then the client is refused: it sends no chat message and exits with a non-zero status

  @ECP-AUTH-08 @robustness @lab-11
  Scenario: A client told that its name is taken is not a member
    Given the room already has a member with the client's username
    When the client tries to join the room
    And the user sends "am I in?"
    Then the client is refused: it sends no chat message and exits with a non-zero status

  @ECP-TR-03 @core @lab-11 @tls
  Scenario: The client refuses a certificate that names another host
    Given the room presents a certificate for another host, from an authority the client trusts
    When the client tries to join the room
    Then the client refuses the room's certificate and sends nothing

  @ECP-TR-03 @core @lab-11 @tls
  Scenario: The client refuses a certificate from an authority it does not trust
    Given the room presents a certificate from an authority the client does not trust
    When the client tries to join the room
    Then the client refuses the room's certificate and sends nothing
