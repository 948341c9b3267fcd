DROP TABLE member_institutions;
DROP TABLE members;
DROP TABLE institutions;
