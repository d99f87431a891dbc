-- 0017_flaky_tests: a suite that failed is re-run on the same commit
-- (flaky_retries); its test results keep every attempt's outcome.
-- Keep in lockstep with ../sqlite/0017_flaky_tests.sql.
--
-- attempt is the run of the suite the result comes from (1 = the first);
-- flaky marks a test that failed on one attempt and passed on a later one,
-- on both of its results.
ALTER TABLE test_results ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE test_results ADD COLUMN flaky BOOLEAN NOT NULL DEFAULT FALSE;
