-- CALYPSO journal, schema version 3.

-- One outbox, two consumers: the Google Sheets mirror ('sheets') and the alert sender
-- ('alerts', shared.alerts). Each background sender reads only its own channel, so an alert
-- never reaches a worksheet and a Sheets row never reaches a phone.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'sheets'
    CHECK (channel IN ('sheets', 'alerts'));
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (channel, id) WHERE delivered_at IS NULL;
