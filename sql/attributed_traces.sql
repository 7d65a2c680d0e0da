-- attributed_traces: every trace of `traces`, and who did it, as the reports name them.
--   operator: the user's name, else its ID, the principal's ID, or the access key
--   domain:   the account's (domain's) name, else its ID
-- Registered as a view in every session (src/query/session.rs); the reports read it instead of
-- `traces`, so that these two definitions live here only.
SELECT
    *,
    COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
    COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain
FROM traces
