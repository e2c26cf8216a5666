# Help-center section: who may use InMail credits, who may buy more, and
# comparing the account types.
Feature: Who may use and buy InMail credits
  InMail credits belong to Premium plans. A free (Basic) member has to
  upgrade before using them, and a Premium member whose card has run out must
  fix the card before sending or buying. Career and Business members may buy
  extra credits on top of their monthly ones; Sales Navigator members get
  credits from their monthly allotment only. The plans can be put side by side.

  Rule: A Basic member must upgrade to Premium before using InMail

    @R02
    Scenario: A Basic member cannot send an InMail
      Given a Basic member "bea" since 2026-01-15
      When "bea" sends an InMail to "carol"
      Then the send is denied because "upgrade_required"
      And the balance of "bea" is 0 credits

    @R02 @R17
    Scenario: A Basic member cannot buy credits either
      Given a Basic member "bea" since 2026-01-15
      When "bea" buys 10 credits
      Then the purchase is denied because "upgrade_required"
      And the balance of "bea" is 0 credits

    @R02 @R07 @R10
    Scenario: After upgrading, InMail opens at once and the credits come with the next renewal
      Given a Basic member "bea" since 2026-01-15
      And 5 days pass
      When "bea" changes to the Career plan
      And "bea" sends an InMail to "carol"
      Then the send is denied because "no_credits"
      When it is 2026-02-15
      And "bea" sends an InMail to "carol"
      Then the InMail is sent
      And the balance of "bea" is 4 credits

    @R02 @R07
    Scenario: A Basic account gets no monthly credits
      Given a Basic member "bea" since 2026-01-15
      When it is 2026-03-20
      Then the balance of "bea" is 0 credits

    @R02 @R03
    Scenario: Upgrading comes before fixing the card
      Given a Basic member "bea" since 2026-01-15
      And the card of "bea" has expired
      When "bea" sends an InMail to "carol"
      Then the send is denied because "upgrade_required"

  Rule: An expired card blocks sending and buying, but monthly credits keep coming

    @R03
    Scenario: An InMail cannot be sent until the card is updated
      Given a Career member "alice" since 2026-01-15
      And the card of "alice" has expired
      When "alice" sends an InMail to "carol"
      Then the send is denied because "update_payment_required"
      And the balance of "alice" is 5 credits

    @R03 @R17
    Scenario: Credits cannot be bought with an expired card
      Given a Career member "alice" since 2026-01-15
      And the card of "alice" has expired
      When "alice" buys 10 credits
      Then the purchase is denied because "update_payment_required"
      And the balance of "alice" is 5 credits

    @R03 @R07
    Scenario: The monthly allotment still arrives while the card is expired
      Given a Career member "alice" since 2026-01-15
      And 5 days pass
      And the card of "alice" has expired
      When it is 2026-02-15
      Then the balance of "alice" is 10 credits

    @R03
    Scenario: Updating the card lets InMails go out again
      Given a Career member "alice" since 2026-01-15
      And the card of "alice" has expired
      And "alice" sends an InMail to "carol"
      When "alice" updates the card
      And "alice" sends an InMail to "carol"
      Then the InMail is sent
      And the balance of "alice" is 4 credits

    @R03 @R05
    Scenario: The expired card is reported before an InMail still waiting
      Given a Career member "alice" since 2026-01-15
      And "alice" sends an InMail to "carol"
      And the card of "alice" has expired
      When "alice" sends an InMail to "carol"
      Then the send is denied because "update_payment_required"

  Rule: Career and Business members may buy extra credits

    @R17
    Scenario Outline: A <plan> member buys 10 credits
      Given a <plan> member "max" since 2026-01-15
      When "max" buys 10 credits
      Then the purchase goes through
      And the balance of "max" is <after> credits

      Examples:
        | plan     | after |
        | Career   | 15    |
        | Business | 25    |

    @R17
    Scenario: Bought credits last a year
      Given a Career member "alice" since 2026-01-15
      When "alice" buys 10 credits
      Then "alice" holds 10 credits expiring on 2027-01-15

    @R17 @R11
    Scenario: Bought credits do not count toward the cap
      Given a Career member "alice" since 2026-01-15
      And "alice" buys 10 credits
      When it is 2026-05-15
      Then the balance of "alice" is 25 credits

    @R17 @R01
    Scenario: Monthly credits are spent before bought ones
      Given a Career member "alice" since 2026-01-15
      And "alice" buys 10 credits
      When "alice" sends an InMail to "carol"
      Then "alice" holds 4 credits expiring on 2026-04-15
      And "alice" holds 10 credits expiring on 2027-01-15

    @R17 @R18
    Scenario: Moving from Sales Navigator to Career allows buying at once
      Given a Sales Navigator member "sam" since 2026-01-15
      And 3 days pass
      When "sam" changes to the Career plan
      And "sam" buys 10 credits
      Then the purchase goes through
      And the balance of "sam" is 30 credits

  Rule: Sales Navigator credits come from the monthly allotment only

    @R18
    Scenario Outline: A <plan> member cannot buy extra credits
      Given a <plan> member "sam" since 2026-01-15
      When "sam" buys 10 credits
      Then the purchase is denied because "not_purchasable"
      And the balance of "sam" is <allotment> credits

      Examples:
        | plan            | allotment |
        | Sales Navigator | 20        |
        | Recruiter Lite  | 30        |

  Rule: Account types can be compared side by side

    @R20 @R10 @R11 @R17 @R18
    Scenario Outline: The <plan> plan in the comparison
      When the plans are compared
      Then the <plan> plan gets <allotment> credits a month, holds at most <cap>, and can buy more: <buy>

      Examples:
        | plan            | allotment | cap | buy |
        | Basic           | 0         | 0   | no  |
        | Career          | 5         | 15  | yes |
        | Business        | 15        | 45  | yes |
        | Sales Navigator | 20        | 60  | no  |
        | Recruiter Lite  | 30        | 90  | no  |
