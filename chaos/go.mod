module github.com/magicmagnets/resilience/chaos

go 1.25.0

// Nobody imports this module: it runs the repository's own modules as they
// are in the working tree.
replace (
	github.com/magicmagnets/resilience => ..
	github.com/magicmagnets/resilience/idempotency/pgstore => ../idempotency/pgstore
	github.com/magicmagnets/resilience/idempotency/redisstore => ../idempotency/redisstore
)

require (
	github.com/Shopify/toxiproxy/v2 v2.12.0
	github.com/jackc/pgx/v5 v5.13.0
	github.com/magicmagnets/resilience v0.1.0
	github.com/magicmagnets/resilience/idempotency/pgstore v0.0.0-00010101000000-000000000000
	github.com/magicmagnets/resilience/idempotency/redisstore v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.31.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)
