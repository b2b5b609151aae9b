-- The invoice basis reads a municipality's cases discharged in a window (or still in
-- hospital): by discharge time, not by every case ever ready.
CREATE INDEX cases_kommun_discharged ON cases(kommunkod, discharged_at);
