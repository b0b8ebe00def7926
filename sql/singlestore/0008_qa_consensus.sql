-- QA_CONSENSUS=assisted (service/qa/consensus.py): the model prior and running posterior of
-- each snapshot, how many more verdicts it may need at once, and how it was settled; and the
-- reliability each verdict was counted with. All NULL under QA_CONSENSUS=majority.

-- P(the attribution is right) from the similarity evidence, fixed when first handed out.
ALTER TABLE snapshots ADD COLUMN `prior` DOUBLE NULL;
-- P(match) after the prior and every verdict so far.
ALTER TABLE snapshots ADD COLUMN posterior DOUBLE NULL;
-- The fewest further verdicts that could settle it: the reservation guard's limit.
ALTER TABLE snapshots ADD COLUMN verdicts_needed INT NULL;
-- 'assisted' (the posterior reached QA_CONFIDENCE) or 'majority'; NULL: majority rule.
ALTER TABLE snapshots ADD COLUMN settled_by VARCHAR(10) NULL;
-- The reviewer's estimated reliability when the verdict was counted.
ALTER TABLE qa_assignments ADD COLUMN reliability DOUBLE NULL;
