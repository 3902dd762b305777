module github.com/loomai/loom

go 1.26.8
