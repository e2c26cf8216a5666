# Help-center section: how many credits each account type gets every month,
# the most it can hold, and seeing the balance while writing.
Feature: Allotments and caps
  Each Premium account type gets a fixed number of credits per month and can
  hold at most three months' worth. When a renewal would go past that limit,
  the credits closest to expiring are given up so the newest batch is kept
  whole. The member can see how many credits are left at any moment.

  Rule: Each account type has its own monthly allotment

    @R10 @R07
    Scenario Outline: A <plan> member receives <allotment> credits each month
      Given a <plan> member "max" since 2026-01-15
      Then the balance of "max" is <allotment> credits
      When it is 2026-02-15
      Then the balance of "max" is <two_months> credits

      Examples:
        | plan            | allotment | two_months |
        | Career          | 5         | 10         |
        | Business        | 15        | 30         |
        | Sales Navigator | 20        | 40         |
        | Recruiter Lite  | 30        | 60         |

    @R10 @R11
    Scenario: After a plan change the new allotment starts at the next renewal
      Given a Career member "alice" since 2026-01-15
      And it is 2026-02-01
      When "alice" changes to the Business plan
      Then the balance of "alice" is 5 credits
      When it is 2026-02-15
      Then the balance of "alice" is 20 credits

  Rule: The balance never goes past the account type's cap

    @R11
    Scenario Outline: A <plan> member who never sends stops at <cap> credits
      Given a <plan> member "max" since 2026-01-15
      When it is 2026-05-15
      Then the balance of "max" is <cap> credits
      And <allotment> credits of "max" were forfeited at the cap on 2026-05-15

      Examples:
        | plan            | allotment | cap |
        | Career          | 5         | 15  |
        | Business        | 15        | 45  |
        | Sales Navigator | 20        | 60  |
        | Recruiter Lite  | 30        | 90  |

    @R11 @R09
    Scenario: The credits closest to expiring are the ones given up
      Given a Career member "alice" since 2026-01-15
      When it is 2026-05-15
      Then "alice" holds 0 credits expiring on 2026-05-16
      And "alice" holds 5 credits expiring on 2026-06-13
      And "alice" holds 5 credits expiring on 2026-08-13

    @R11 @R14
    Scenario: Credits given back count toward the cap
      Given a Career member "alice" since 2026-01-15
      And it is 2026-05-14
      And "alice" sends an InMail to "carol"
      And "carol" replies with "interested"
      When it is 2026-05-15
      Then the balance of "alice" is 15 credits
      And 5 credits of "alice" were forfeited at the cap on 2026-05-15

    @R11
    Scenario: A member below the cap loses nothing at renewal
      Given a Career member "alice" since 2026-01-15
      And it is 2026-05-14
      And "alice" sends InMails to 5 new members
      When it is 2026-05-15
      Then the balance of "alice" is 15 credits
      And 0 credits of "alice" were forfeited at the cap on 2026-05-15

  Rule: The number of credits left can be looked up at any moment

    @R19
    Scenario: Every InMail shows how many credits are left
      Given a Business member "bo" since 2026-01-15
      When "bo" sends an InMail to "carol"
      Then the decision shows 14 credits left
      When "bo" sends an InMail to "dave"
      Then the decision shows 13 credits left

    @R19
    Scenario: The balance at any earlier moment can be looked up later
      Given a Career member "alice" since 2026-01-15
      And it is 2026-01-20 12:00
      And "alice" sends an InMail to "carol"
      When it is 2026-03-01
      Then the balance of "alice" on 2026-01-15 was 5 credits
      And the balance of "alice" on 2026-01-20 11:59 was 5 credits
      And the balance of "alice" on 2026-01-20 12:00 was 4 credits
      And the balance of "alice" on 2026-02-15 was 9 credits
      And the balance of "alice" is 9 credits

    @R19 @R09
    Scenario: Past balances can still be looked up after their credits expired
      Given a Career member "alice" since 2026-01-15
      When it is 2026-04-16
      Then the balance of "alice" is 15 credits
      And the balance of "alice" on 2026-04-14 was 15 credits
      And the balance of "alice" on 2026-03-15 was 15 credits
      And the balance of "alice" on 2026-03-14 was 10 credits
