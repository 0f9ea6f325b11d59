"""Scrapy project for config-driven news crawling (built by the crawler issue)."""
