-- A message stored without a usable control id (unreadable, of a type not taken, or reusing
-- another message's MSH-10) is known again by its content: sent again byte for byte, it is
-- answered the same way and not stored twice.
ALTER TABLE hl7_messages ADD COLUMN content_hash TEXT;
CREATE UNIQUE INDEX hl7_messages_content ON hl7_messages(sender, content_hash)
    WHERE control_id IS NULL AND content_hash IS NOT NULL;
