"""HTTP clients of the two vendors, paced and with deadlines."""
