"""The daily security report: one self-contained HTML page per UTC day, for people who will not
write SQL (not to be confused with `summarize/report.py`, the text report `azlogs run` prints).

Sections: sign-ins and failures per hour, failures by error code and by country, the detections
timeline, the findings with their severity, the top risky users and the feed health. It reads
the analysts' catalog (read-only). Charts are drawn with matplotlib and inlined as SVG; the page
has no script, font, stylesheet or image from anywhere else, so it opens offline and can be
mailed as one file.
"""

from azlogs_pipeline.daily_report.write import ReportResult, parse_day, write_daily_report

__all__ = ["ReportResult", "parse_day", "write_daily_report"]
