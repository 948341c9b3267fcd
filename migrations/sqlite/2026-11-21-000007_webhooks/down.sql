DROP INDEX outbox_channel_idx;
DELETE FROM outbox WHERE webhook_endpoint IS NOT NULL;
ALTER TABLE outbox DROP COLUMN webhook_endpoint;
DROP TABLE webhook_endpoints;
