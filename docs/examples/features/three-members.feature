Feature: An instructor's own lab: three members, one copy each
  Written with the kit's steps only (ecp conformance --steps lists them), run with
  ecp conformance --features docs/examples/features --tags @lab-14

  @core @lab-14 @ECP-CHAT-01
  Scenario: Each member gets exactly the message carol sent
    Given alice, bob and carol are in the room
    When carol sends the chat message "one copy each"
    Then alice and bob receive "one copy each" from carol
    And carol receives her own "one copy each" back

  @core @lab-14 @ECP-UL-01
  Scenario: A member who leaves and comes back is listed once
    Given alice, bob and carol are in the room
    When bob leaves
    And bob joins again
    Then carol's latest user list names alice, bob and carol exactly once each
