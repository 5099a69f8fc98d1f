-- Run once by the postgres image (docker-compose.yml) when its volume is empty.
-- POSTGRES_DB already created fulfil_order; these are the other services' databases.
CREATE DATABASE fulfil_warehouse OWNER fulfil;
CREATE DATABASE fulfil_aftersales OWNER fulfil;
CREATE DATABASE fulfil_test OWNER fulfil;
