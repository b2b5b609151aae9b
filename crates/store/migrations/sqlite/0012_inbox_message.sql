-- FHIR $acknowledge finds a message's cases by its id alone; without this it read the whole inbox.
CREATE INDEX inbox_message ON inbox(message_id);
