module github.com/magicmagnets/resilience/resiliencegrpc/redistest

go 1.25.0

replace (
	github.com/magicmagnets/resilience => ../..
	github.com/magicmagnets/resilience/idempotency/redisstore => ../../idempotency/redisstore
	github.com/magicmagnets/resilience/resiliencegrpc => ..
)

require (
	github.com/magicmagnets/resilience v0.1.0
	github.com/magicmagnets/resilience/idempotency/redisstore v0.0.0-00010101000000-000000000000
	github.com/magicmagnets/resilience/resiliencegrpc v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	google.golang.org/grpc v1.84.0
	google.golang.org/protobuf v1.36.11
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.40.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
)
