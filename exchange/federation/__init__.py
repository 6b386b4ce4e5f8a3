"""Federation: node identity, peers, the inbox and the delivery worker (DESIGN.md, "Delivery")."""
