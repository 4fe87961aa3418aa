module github.com/magicmagnets/resilience/resiliencedebug/browser

go 1.25.0

replace github.com/magicmagnets/resilience => ../..

require github.com/magicmagnets/resilience v0.0.0-00010101000000-000000000000
