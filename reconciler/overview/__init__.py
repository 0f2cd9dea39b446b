"""Reading the production back from the store for people: status, jobs, files, the report.

Everything here reads (views first, documents only where a view cannot answer) and
returns frozen records; rendering them is `reconciler.report`'s job.
"""
