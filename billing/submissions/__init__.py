"""Submissions: Ready claims batched into 837P (005010X222A1) files, validated, sent by SFTP or downloaded."""

from __future__ import annotations
