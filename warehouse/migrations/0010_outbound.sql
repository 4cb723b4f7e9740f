-- The outbound models: the 360Learning payloads go1sync would send and the change sets against
-- the pushed snapshot, as views in the model graph (models/outbound/).
CREATE SCHEMA IF NOT EXISTS outbound;
