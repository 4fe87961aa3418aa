module github.com/magicmagnets/resilience/ratelimit/redisstore

go 1.25.0

require github.com/magicmagnets/resilience v0.1.0
