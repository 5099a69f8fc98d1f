"""After-sales: refunds by stage, returns and grading, liability, complaint SLAs, analytics."""
