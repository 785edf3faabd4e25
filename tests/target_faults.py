"""The target refusing writes as a concurrent transaction would.

A trigger on ``res_partner`` raises PostgreSQL's real errors once each: a serialization
failure (SQLSTATE 40001) at the 700th generated partner inserted, a deadlock (40P01) at the
1,500th. Its counter is a sequence, which a rolled-back batch does not roll back, so each
fires once however often the batch is done again.
"""

CONCURRENCY_FAULTS = """
    CREATE SEQUENCE rdm_fault_seq;
    CREATE FUNCTION rdm_fault() RETURNS trigger AS $$
    BEGIN
        CASE nextval('rdm_fault_seq')
            WHEN 700 THEN RAISE EXCEPTION 'could not serialize access due to concurrent update'
                USING ERRCODE = 'serialization_failure';
            WHEN 1500 THEN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected';
            ELSE NULL;
        END CASE;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER rdm_fault BEFORE INSERT ON res_partner
        FOR EACH ROW WHEN (NEW.ref LIKE 'RDM-GEN-%') EXECUTE FUNCTION rdm_fault();
"""

DROP_CONCURRENCY_FAULTS = """
    DROP TRIGGER rdm_fault ON res_partner;
    DROP FUNCTION rdm_fault();
    DROP SEQUENCE rdm_fault_seq;
"""
