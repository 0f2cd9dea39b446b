"""Campaigns to job documents.

expand (pure) -> observe -> plan (pure) -> apply, run together by `step`.
"""
