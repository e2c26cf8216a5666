# Help-center section: what happens to the credit of an InMail depending on
# whether, when and how the recipient answers.
Feature: Responses and credit back
  An InMail that is never answered keeps its credit spent. When the recipient
  answers within 90 days of the send, the sender gets that credit back at the
  moment the answer arrives: one credit per answered InMail. The one-click
  auto-replies count as answers too: "Interested" and "Maybe later" mark the
  InMail accepted, "Not interested" marks it declined, and all three return
  the credit.

  Rule: An InMail without a response is not credited back

    @R13
    Scenario: Silence keeps the credit spent
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      When it is 2026-02-14
      Then the balance of "alice" is 4 credits
      And "alice" got 0 credits back

    @R13 @R05
    Scenario: An answer after 90 days returns nothing, but allows a new InMail
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And 91 days pass
      When "carol" replies with "reply"
      Then the response is not credited because "late_response"
      And "alice" got 0 credits back
      When "alice" sends an InMail to "carol"
      Then the InMail is sent

  Rule: An answer no later than 90 days after sending returns the credit, once per InMail

    @R14
    Scenario Outline: An answer <days> days after the send earns the credit back
      Given a Career member "alice" since 2026-01-15
      And it is 2026-01-15 10:00
      And "alice" sends an InMail to "carol"
      And <days> days pass
      When "carol" replies with "reply"
      Then the response is credited back
      And the InMail is recorded as "replied"
      And "alice" got 1 credit back

      Examples:
        | days |
        | 1    |
        | 45   |
        | 90   |

    @R14 @R13
    Scenario Outline: An answer <days> days after the send is too late
      Given a Career member "alice" since 2026-01-15
      And it is 2026-01-15 10:00
      And "alice" sends an InMail to "carol"
      And <days> days pass
      When "carol" replies with "reply"
      Then the response is not credited because "late_response"

      Examples:
        | days |
        | 91   |
        | 200  |

    @R14
    Scenario: Every answered InMail returns its own credit
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And "alice" sends an InMail to "dave"
      And 3 days pass
      When "carol" replies with "reply"
      And "dave" replies with "interested"
      Then the balance of "alice" is 5 credits
      And "alice" got 2 credits back

    @R14
    Scenario: Answering the same InMail twice returns one credit only
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And 1 day passes
      And "carol" replies with "reply"
      When "carol" replies with "interested"
      Then the response is not credited because "already_responded"
      And the balance of "alice" is 5 credits

    @R14 @R04
    Scenario: An answer to a free message to a connection returns nothing
      Given a Career member "alice" since 2026-01-15
      And "alice" is connected to "bob"
      And "alice" sends a message to "bob"
      When "bob" replies with "reply"
      Then the response is not credited because "not_inmail"
      And the balance of "alice" is 5 credits

    @R14 @R12
    Scenario: A sender who canceled Premium gets nothing back
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And 1 day passes
      And "alice" cancels the subscription
      When "carol" replies with "reply"
      Then the response is not credited because "not_premium"
      And the balance of "alice" is 0 credits

  Rule: The credit comes back at once

    @R15
    Scenario: The balance goes up at the moment of the answer
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And it is 2026-01-20 14:30
      When "carol" replies with "reply"
      Then the response is credited back
      And the decision shows 5 credits left
      And the balance of "alice" on 2026-01-20 14:29 was 4 credits
      And the balance of "alice" on 2026-01-20 14:30 was 5 credits

    @R15 @R09
    Scenario: The returned credit is a fresh one with its own 90 days
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And it is 2026-02-01
      When "carol" replies with "reply"
      Then "alice" holds 4 credits expiring on 2026-04-15
      And "alice" holds 1 credit expiring on 2026-05-02

  Rule: Auto-replies are responses too

    @R16
    Scenario Outline: The "<reply>" auto-reply records the InMail as <status> and returns the credit
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And 2 days pass
      When "carol" replies with "<reply>"
      Then the response is credited back
      And the InMail is recorded as "<status>"
      And the balance of "alice" is 5 credits

      Examples:
        | reply          | status   |
        | Interested     | accepted |
        | Maybe later    | accepted |
        | Not interested | declined |

    @R16 @R14
    Scenario: A written reply records the InMail as replied
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      When "carol" replies with "reply"
      Then the InMail is recorded as "replied"
