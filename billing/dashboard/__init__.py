"""The dashboard's KPI figures (billing.dashboard.figures) and the SQL their drill-down lists share
(billing.dashboard.conditions). Top layer: it reads claims, the ledger, acknowledgments, filing deadlines and rules."""
