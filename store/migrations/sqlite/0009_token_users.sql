-- 0009_token_users: approvals are a person's, not a token's.
-- Keep in lockstep with ../postgres/0009_token_users.sql.

-- The person a token belongs to, one login per forge, as "github:alice" items
-- joined by ","; '' for a token that names nobody (it cannot approve).
ALTER TABLE tokens ADD COLUMN users TEXT NOT NULL DEFAULT '';

-- approver is now the person's login on the candidate's forge (lower case, so
-- the live-approval key counts people); token is the API token it came
-- through, '' for a comment.
ALTER TABLE approvals ADD COLUMN token TEXT NOT NULL DEFAULT '';
