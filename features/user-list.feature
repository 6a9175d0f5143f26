Feature: User list
  Every user_list names each current member exactly once, in join order (docs/protocol.md,
  section 8). On a shared server other members may be listed too; the scenarios only look at
  their own members.

  @core @lab-5 @ECP-UL-01
  Scenario: The user list names each member exactly once
    Given alice, bob and carol are in the room
    Then carol's latest user list names alice, bob and carol exactly once each

  @core @lab-5 @ECP-UL-01
  Scenario: A member who leaves disappears from the user list
    Given alice, bob and carol are in the room
    When bob leaves
    Then alice and carol receive a user list without bob

  @core @lab-5 @ECP-UL-01
  Scenario: Refused and unadmitted connections are never listed
    Given alice is in the room
    When mallory sends a handshake with a wrong password
    And trudy asks to join with alice's name
    And carol joins
    Then no user list alice received names mallory
    And every user list alice received names alice exactly once

  @strict @lab-5 @ECP-UL-02
  Scenario: The user list is in join order
    Given alice, bob and carol are in the room
    When bob leaves
    And bob joins again
    Then alice's latest user list names alice, carol and bob in that order
