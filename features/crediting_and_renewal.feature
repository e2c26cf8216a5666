# Help-center section: how credits arrive each month, roll over, expire, and
# what canceling Premium does to them.
Feature: Crediting and renewal
  Credits come in a monthly batch on the day the billing cycle starts over.
  That day is set by billing, not by the day a Sales Navigator seat was
  handed out or the day the member first signed up. Credits that are not
  used carry over to the next month, but each one is only good for 90 days.
  Credits are part of Premium: when Premium ends, so do they.

  Rule: A new allotment arrives on the first day of every billing cycle

    @R07
    Scenario: A Career member is credited at sign-up and then every month
      Given a Career member "alice" since 2026-01-15
      Then the balance of "alice" is 5 credits
      When it is 2026-02-14 23:59
      Then the balance of "alice" is 5 credits
      When it is 2026-02-15
      Then the balance of "alice" is 10 credits
      And "alice" was granted credits on 2026-01-15 and 2026-02-15

    @R07
    Scenario Outline: A cycle that starts late in the month renews on the last day of shorter months
      Given a Career member "alice" since <start>
      When it is <until>
      Then "alice" was granted credits on <grants>

      Examples:
        | start      | until      | grants                                       |
        | 2026-01-31 | 2026-04-30 | 2026-01-31, 2026-02-28, 2026-03-31 and 2026-04-30 |
        | 2028-01-31 | 2028-03-31 | 2028-01-31, 2028-02-29 and 2028-03-31             |
        | 2026-03-31 | 2026-05-31 | 2026-03-31, 2026-04-30 and 2026-05-31             |

  Rule: The renewal day follows the billing cycle, not the seat or sign-up date

    @R08
    Scenario: A Sales Navigator seat assigned mid-cycle renews on the billing day
      Given a Sales Navigator member "sam" since 2026-03-10 with billing anchor 2026-02-20
      When it is 2026-04-30
      Then "sam" was granted credits on 2026-03-10, 2026-03-20 and 2026-04-20
      And the balance of "sam" on 2026-04-10 was 40 credits
      And the balance of "sam" on 2026-04-20 was 60 credits

    @R08
    Scenario: A member who signed up mid-month renews on the billing day
      Given a Career member "alice" since 2026-01-15 with billing anchor 2026-01-01
      When it is 2026-03-10
      Then "alice" was granted credits on 2026-01-15, 2026-02-01 and 2026-03-01
      And the balance of "alice" is 15 credits

  Rule: Unused credits roll over, and each credit lasts 90 days

    @R09
    Scenario: Unused credits carry over from month to month
      Given a Career member "alice" since 2026-01-15
      When it is 2026-03-15
      Then the balance of "alice" is 15 credits

    @R09
    Scenario: A credit is good until, but not at, the end of its 90th day
      Given a Career member "alice" since 2026-01-15
      When it is 2026-04-14 23:59
      Then "alice" holds 5 credits expiring on 2026-04-15
      When it is 2026-04-15
      Then "alice" holds 0 credits expiring on 2026-04-15
      And 5 credits of "alice" expired on 2026-04-15
      And the balance of "alice" is 15 credits

    @R09
    Scenario: Credits already spent have nothing left to expire
      Given a Career member "alice" since 2026-01-15
      And "alice" sends InMails to 5 new members
      When it is 2026-04-15
      Then 0 credits of "alice" expired on 2026-04-15
      And the balance of "alice" is 15 credits

    @R09 @R15
    Scenario: A credit given back lasts 90 days from the day it came back
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And 5 days pass
      When "carol" replies with "reply"
      Then "alice" holds 1 credit expiring on 2026-04-20

  Rule: Canceling Premium sets the balance to zero

    @R12
    Scenario: Canceling forfeits every credit, bought ones included
      Given a Career member "alice" since 2026-01-15
      And "alice" buys 10 credits
      And it is 2026-02-20
      When "alice" cancels the subscription
      Then the balance of "alice" is 0 credits
      And the balance of "alice" on 2026-02-19 was 20 credits

    @R12 @R07
    Scenario: No more monthly credits after canceling
      Given a Career member "alice" since 2026-01-15
      And it is 2026-02-20
      And "alice" cancels the subscription
      When it is 2026-05-01
      Then the balance of "alice" is 0 credits
      And "alice" was granted credits on 2026-01-15 and 2026-02-15

    @R12 @R02
    Scenario: A member who canceled cannot send or buy
      Given a Career member "alice" since 2026-01-15
      And "alice" cancels the subscription
      When "alice" sends an InMail to "carol"
      Then the send is denied because "upgrade_required"
      When "alice" buys 5 credits
      Then the purchase is denied because "upgrade_required"

    @R12 @R07
    Scenario: Subscribing again starts a new cycle from the new start day
      Given a Career member "alice" since 2026-01-15
      And it is 2026-02-20
      And "alice" cancels the subscription
      And it is 2026-03-05
      When "alice" subscribes to the Career plan
      Then the balance of "alice" is 5 credits
      When it is 2026-04-05
      Then the balance of "alice" is 10 credits
      And "alice" was granted credits on 2026-01-15, 2026-02-15, 2026-03-05 and 2026-04-05
