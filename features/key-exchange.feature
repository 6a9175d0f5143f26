Feature: Key exchange
  The server has one room key for its whole lifetime and sends it to each member encrypted with
  RSA-OAEP (SHA-256) under the public key from that member's handshake (docs/protocol.md, section 6).

  @core @lab-3 @ECP-KX-03
  Scenario: The room key is encrypted to the member's RSA key
    Given alice is connected
    When alice sends a valid handshake
    Then alice's encrypted_key is standard base64 of 344 characters
    And alice's encrypted_key decrypts with her private key to a 44-character Fernet key

  @core @lab-3 @ECP-KX-03
  Scenario Outline: Public keys longer than 2048 bits are accepted
    Given alice is connected with a <bits>-bit RSA key
    When alice sends a valid handshake
    Then alice's encrypted_key is standard base64 of <length> characters
    And alice's encrypted_key decrypts with her private key to a 44-character Fernet key

    Examples:
      | bits | length |
      | 3072 | 512    |
      | 4096 | 684    |

  @core @lab-3 @ECP-KX-02
  Scenario: Every member receives the same room key, whenever it joined
    Given alice and bob are in the room
    When bob leaves
    And carol joins
    Then alice, bob and carol hold the same room key

  @core @lab-4 @ECP-KX-02
  Scenario: Every member can decrypt what another member sends
    Given alice, bob and carol are in the room
    When carol sends the chat message "the same key for everyone"
    Then alice and bob receive "the same key for everyone" from carol
