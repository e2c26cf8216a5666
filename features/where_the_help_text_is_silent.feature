# Points the help-center page leaves open, and how the engine decides them.
# Each choice is stated in docs/semantics.md ("Choices where the help text is
# silent"); these scenarios are what holds the engine to it.
Feature: Where the help text is silent
  The help center says how many credits there are, when they come and go and
  who may buy more, but not what a day is when the clocks change, which
  times and counts an input may hold, what a renewal does on a plan that is
  not Premium, or what a retried request does. The engine decides each of
  these one way, the same way every time.

  Rule: Day counts are calendar days in the policy's time zone

    @R14
    Scenario: A response on the 90th calendar day is in time, even when that span is an hour short
      # Paris moves its clocks forward on 2026-03-29: these 90 calendar days last 89 days and 23 hours.
      Given the policy's time zone is "Europe/Paris"
      And a Career member "alice" since 2026-01-01
      And it is 2026-01-10 12:00
      And "alice" sends an InMail to "bob"
      When it is 2026-04-10 12:00
      And "bob" replies with "Interested"
      Then the response is credited back

    @R14
    Scenario: A response 90 times 24 hours after the send is too late across that change
      Given the policy's time zone is "Europe/Paris"
      And a Career member "alice" since 2026-01-01
      And it is 2026-01-10 12:00
      And "alice" sends an InMail to "bob"
      When it is 2026-04-10 13:00
      And "bob" replies with "Interested"
      Then the response is not credited because "late_response"

    @R09
    Scenario: A credit lives 90 calendar days, to local midnight
      Given the policy's time zone is "Europe/Paris"
      And a Career member "alice" since 2026-01-01
      Then "alice" holds 5 credits expiring on 2026-04-01
      When it is 2026-04-01
      Then 5 credits of "alice" expired on 2026-04-01

  Rule: A local time must exist; one that happens twice is the earlier

    @R01
    Scenario: A time the clocks skip is refused
      Given the policy's time zone is "Europe/Paris"
      And a Career member "alice" since 2026-03-01
      When "alice" sends "bob" an InMail at "2026-03-29 02:30"
      Then the call is refused because "nonexistent_local_time"
      And the balance of "alice" is 5 credits

    @R01
    Scenario: A time the clocks go through twice is the first of the two
      Given the policy's time zone is "Europe/Paris"
      And a Career member "alice" since 2026-10-01
      When "alice" sends "bob" an InMail at "2026-10-25 02:30"
      Then the InMail is sent
      And the decision is dated "2026-10-25T02:30:00+02:00"

  Rule: Times run from 1970 to the end of 2999, counts from 1 to 1,000,000

    @R01
    Scenario Outline: A time outside the range is refused before anything is written
      Given a Career member "alice" since 2026-01-15
      When "alice" sends "bob" an InMail at "<time>"
      Then the call is refused because "time_out_of_range"
      And the balance of "alice" is 5 credits

      Examples:
        | time       |
        | 1969-12-31 |
        | 3000-01-01 |

    @R17
    Scenario: A purchase of up to a million credits goes through, one more is refused
      Given a Career member "alice" since 2026-01-15
      When "alice" buys 1000000 credits
      Then the purchase goes through
      When "alice" buys 1000001 credits
      Then the call is refused because "invalid_quantity"
      And the balance of "alice" is 1000005 credits

  Rule: Plans and subscriptions

    @R07
    Scenario: A member moved to Basic gets no more credits, and keeps the ones held until they expire
      Given a Career member "alice" since 2026-01-15
      And "alice" sends InMails to 2 new members
      When it is 2026-01-20
      And "alice" changes to the Basic plan
      And it is 2026-03-01
      Then "alice" was granted credits on 2026-01-15
      And the balance of "alice" is 3 credits
      When it is 2026-04-20
      Then 3 credits of "alice" expired on 2026-04-15
      And the balance of "alice" is 0 credits

    @R03
    Scenario: A new subscription starts with a valid card
      Given a Basic member "ben" since 2026-01-01
      And the card of "ben" has expired
      When it is 2026-01-10
      And "ben" subscribes to the Career plan
      And "ben" sends an InMail to "cara"
      Then the InMail is sent

    @R12
    Scenario: A canceled member who changes plan stays canceled until subscribing again
      Given a Career member "alice" since 2026-01-15
      And it is 2026-01-20
      And "alice" cancels the subscription
      When "alice" changes to the Business plan
      And it is 2026-02-20
      Then "alice" was granted credits on 2026-01-15
      And the balance of "alice" is 0 credits
      When "alice" sends an InMail to "bob"
      Then the send is denied because "upgrade_required"
      When "alice" subscribes to the Business plan
      Then the balance of "alice" is 15 credits

    @R17
    Scenario: A legacy Premium plan that an editor adds may buy credits
      # The help center names legacy Premium plans among those that may buy, with no numbers:
      # the shipped policy has none, and an editor adds one as an ordinary plan.
      Given the policy has a Premium Legacy plan: Premium, 10 credits a month, a cap of 30, buying more: yes
      And a Premium Legacy member "lena" since 2026-01-01
      When "lena" buys 10 credits
      Then the purchase goes through
      And the balance of "lena" is 20 credits

  Rule: Requests

    @R01
    Scenario: A retried request gets the first answer; the same key on another request is refused
      Given a Career member "alice" since 2026-01-15
      When "alice" sends "bob" an InMail with key "req-1"
      And "alice" sends "bob" an InMail with key "req-1"
      Then the answer is the decision first made under key "req-1"
      And the balance of "alice" is 4 credits
      When "alice" sends "carol" an InMail with key "req-1"
      Then the call is refused because "idempotency_key_reused"
      And the balance of "alice" is 4 credits

    @R19
    Scenario: Reading a balance ahead stores nothing
      Given a Career member "alice" since 2026-01-15
      Then the balance of "alice" on 2026-06-01 will be 15 credits
      When it is 2026-02-01
      And "alice" sends an InMail to "bob"
      Then the InMail is sent
      And the balance of "alice" is 4 credits
