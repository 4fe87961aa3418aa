// Package redisstore keeps fleet-wide rate limits on Redis.
package redisstore
