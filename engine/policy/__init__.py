"""Stage 2, the policy: ``policies.yaml`` read into a validated, frozen model.

Plans, lifetimes, caps, windows and the other knobs; a policy is either
wholly valid or not loaded.
"""
