# Help-center section: sending an InMail (who you can write to, and what it costs).
# Requirement ids are tags; see features/REQUIREMENTS.md for the catalog and
# features/STEPS.md for every step phrase you can use.
Feature: Sending an InMail
  An InMail lets a Premium member write to someone who is not yet in their
  network. Each one costs a credit. Writing to a 1st-degree connection is an
  ordinary message: no credit, no Premium needed. While one InMail to a person
  waits for an answer, the sender cannot send that person a second one, and
  the recipient gets a nudge a few days after it arrived.

  Rule: Each InMail uses one credit

    @R01
    Scenario: An InMail to a stranger costs one credit
      Given a Career member "alice" since 2026-01-15
      When "alice" sends an InMail to "carol"
      Then the InMail is sent
      And the decision shows 4 credits left
      And the balance of "alice" is 4 credits

    @R01 @R17
    Scenario: A member who has used every credit is told they can buy more
      Given a Career member "alice" since 2026-01-15
      And "alice" sends InMails to 5 new members
      When "alice" sends an InMail to "carol"
      Then the send is denied because "no_credits"
      And the decision says more credits can be bought
      And the balance of "alice" is 0 credits

    @R01 @R18
    Scenario: Out of credits on a plan that cannot buy more
      Given a Sales Navigator member "sam" since 2026-01-15
      And "sam" sends InMails to 20 new members
      When "sam" sends an InMail to "carol"
      Then the send is denied because "no_credits"
      And the decision says more credits cannot be bought

    @R01 @R09
    Scenario: The credit closest to expiring is spent first
      Given a Career member "alice" since 2026-01-15
      And 31 days pass
      When "alice" sends an InMail to "carol"
      Then the InMail is sent
      And "alice" holds 4 credits expiring on 2026-04-15
      And "alice" holds 5 credits expiring on 2026-05-16

  Rule: Messages to 1st-degree connections are free, whatever the plan

    @R04
    Scenario Outline: A <plan> member writes to a connection for free
      Given a <plan> member "pat" since 2026-01-15
      And "pat" is connected to "bob"
      When "pat" sends a message to "bob"
      Then the message is sent free of charge
      And the balance of "pat" is <allotment> credits

      Examples:
        | plan            | allotment |
        | Sales Navigator | 20        |
        | Career          | 5         |
        | Basic           | 0         |
        | Recruiter Lite  | 30        |
        | Business        | 15        |

    @R04 @R03
    Scenario: A connection can be written to with an expired card and no credits left
      Given a Career member "alice" since 2026-01-15
      And "alice" is connected to "bob"
      And "alice" sends InMails to 5 new members
      And the card of "alice" has expired
      When "alice" sends a message to "bob"
      Then the message is sent free of charge

    @R04 @R05 @R06
    Scenario: Free messages neither block the next one nor trigger a reminder
      Given a Career member "alice" since 2026-01-15
      And "alice" is connected to "bob"
      When "alice" sends a message to "bob"
      And "alice" sends a message to "bob"
      Then the message is sent free of charge
      When 4 days pass
      Then "bob" has not been reminded of the message from "alice"
      And the balance of "alice" is 5 credits

    @R04
    Scenario: Once two members connect, InMail is no longer needed between them
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      When "alice" is connected to "carol"
      And "alice" sends a message to "carol"
      Then the message is sent free of charge
      And the balance of "alice" is 4 credits

  Rule: Only one unanswered InMail at a time to the same member

    @R05
    Scenario: A second InMail waits for an answer to the first
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      When "alice" sends an InMail to "carol"
      Then the send is denied because "awaiting_response"
      And the balance of "alice" is 4 credits

    @R05
    Scenario: Waiting on one member does not stop InMails to others
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      When "alice" sends an InMail to "dave"
      Then the InMail is sent
      And the balance of "alice" is 3 credits

    @R05 @R14
    Scenario: After the member answers, a new InMail may go out
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And 2 days pass
      And "carol" replies with "reply"
      When "alice" sends an InMail to "carol"
      Then the InMail is sent

    @R05
    Scenario: Still waiting weeks later
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And 40 days pass
      When "alice" sends an InMail to "carol"
      Then the send is denied because "awaiting_response"

    @R05 @R01
    Scenario: A member out of credits hears first about the InMail still waiting
      Given a Career member "alice" since 2026-01-15
      And "alice" sends InMails to 4 new members
      And "alice" sends an InMail to "carol"
      When "alice" sends an InMail to "carol"
      Then the send is denied because "awaiting_response"
      And the balance of "alice" is 0 credits

  Rule: The recipient is reminded three days after the send, but only while it is unanswered

    @R06
    Scenario: An unanswered InMail is followed by a reminder
      Given a Career member "alice" since 2026-01-15
      And it is 2026-01-15 10:00
      And "alice" sends an InMail to "carol"
      When it is 2026-01-18 09:59
      Then "carol" has not been reminded of the InMail from "alice"
      When it is 2026-01-18 10:00
      Then "carol" has been reminded of the InMail from "alice"

    @R06
    Scenario: No reminder once the recipient has answered
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And 2 days pass
      And "carol" replies with "not interested"
      When 5 days pass
      Then "carol" has not been reminded of the InMail from "alice"
