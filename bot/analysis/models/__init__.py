"""Shipped model files (gzip-compressed JSON); see NOTICE.txt for their origins."""
